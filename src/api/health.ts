import type { HttpResponseInit } from '@azure/functions';

/** Resolves when the part answers; must stop work when `signal` aborts (the check timed out). */
export type Probe = (signal: AbortSignal) => Promise<void>;

export interface HealthDependencies {
  version: string;
  probes: Record<string, Probe>;
  /** A part that takes longer than this counts as not answering. */
  timeoutMs?: number;
}

interface CheckResult {
  ok: boolean;
  durationMs: number;
  /** An error class or code only: a message could echo a connection string. */
  error?: string;
}

/** GET /api/health: 200 when every part answers, 503 naming the parts that did not. */
export function createHealthHandler(deps: HealthDependencies): () => Promise<HttpResponseInit> {
  const timeoutMs = deps.timeoutMs ?? 5_000;
  return async () => {
    const names = Object.keys(deps.probes);
    const results = await Promise.all(names.map((name) => check(deps.probes[name], timeoutMs)));
    const checks = Object.fromEntries(names.map((name, i) => [name, results[i]]));
    const failed = names.filter((_, i) => !results[i].ok);
    return {
      status: failed.length === 0 ? 200 : 503,
      headers: { 'Cache-Control': 'no-store' },
      jsonBody: { status: failed.length === 0 ? 'ok' : 'unhealthy', version: deps.version, failed, checks },
    };
  };
}

async function check(probe: Probe, timeoutMs: number): Promise<CheckResult> {
  const started = Date.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(Object.assign(new Error('timeout'), { code: 'Timeout' }));
        }, timeoutMs);
      }),
    ]);
    return { ok: true, durationMs: Date.now() - started };
  } catch (error) {
    return { ok: false, durationMs: Date.now() - started, error: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Za-z][\w.]{0,60}$/.test(code)) return code;
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof status === 'number') return `HTTP ${status}`;
  return error instanceof Error ? error.name : 'Error';
}
