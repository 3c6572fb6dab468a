/**
 * Route templates as the Functions host reads them (ASP.NET Core routing): literal segments,
 * `{name}`, `{name:constraint}`, `{name?}` and a trailing `{*name}`. Literals match
 * case-insensitively; when several templates match, the most specific wins, segment by segment:
 * literal, then constrained parameter, then parameter, then optional, then catch-all.
 */
export interface CompiledRoute {
  template: string;
  segments: Segment[];
  /** Lower sorts first; compared element by element. */
  rank: number[];
}

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string; constraint?: string; optional: boolean }
  | { kind: 'catchAll'; name: string };

const CONSTRAINTS: Record<string, RegExp> = {
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  alpha: /^[a-z]+$/i,
};

export function compileRoute(template: string): CompiledRoute {
  const parts = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s !== '');
  const segments = parts.map((part, index): Segment => {
    const param = /^\{(\*{1,2})?([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(part);
    if (!param) {
      if (part.includes('{')) throw new Error(`Unsupported route segment "${part}" in "${template}"`);
      return { kind: 'literal', value: part.toLowerCase() };
    }
    const [, star, name, constraint, optional] = param;
    if (star) {
      if (index !== parts.length - 1) throw new Error(`Catch-all must be last in "${template}"`);
      return { kind: 'catchAll', name };
    }
    return { kind: 'param', name, constraint: constraint?.toLowerCase(), optional: optional === '?' };
  });
  const rank = segments.map((s) =>
    s.kind === 'literal' ? 0 : s.kind === 'catchAll' ? 4 : s.optional ? 3 : s.constraint ? 1 : 2,
  );
  return { template, segments, rank };
}

/** Parameters when `path` (no prefix, no query) matches, undefined otherwise. */
export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const parts = path
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s !== '');
  const params: Record<string, string> = {};
  let i = 0;
  for (const segment of route.segments) {
    if (segment.kind === 'catchAll') {
      params[segment.name] = parts.slice(i).map(decode).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) {
      if (segment.kind === 'param' && segment.optional) continue;
      return undefined;
    }
    const value = decode(part);
    if (segment.kind === 'literal') {
      if (value.toLowerCase() !== segment.value) return undefined;
    } else {
      const test = segment.constraint ? CONSTRAINTS[segment.constraint] : undefined;
      if (test && !test.test(value)) return undefined;
      params[segment.name] = value;
    }
    i++;
  }
  return i === parts.length ? params : undefined;
}

export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < Math.max(a.rank.length, b.rank.length); i++) {
    const diff = (a.rank[i] ?? -1) - (b.rank[i] ?? -1);
    if (diff !== 0) return diff;
  }
  return a.template.localeCompare(b.template);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
