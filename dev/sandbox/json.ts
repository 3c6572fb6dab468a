/** A JSON number written exactly as given, e.g. a cost with 22 significant digits. */
export class RawNumber {
  constructor(readonly text: string) {
    if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(text)) throw new Error(`not a JSON number: ${text}`);
  }
}

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | RawNumber
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue | undefined };

/** Compact JSON like JSON.stringify, except RawNumber values go in verbatim and undefined keys drop. */
export function stringify(value: JsonValue): string {
  if (value instanceof RawNumber) return value.text;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => stringify(item)).join(',')}]`;
  const members: string[] = [];
  for (const [key, member] of Object.entries(value as Record<string, JsonValue | undefined>)) {
    if (member !== undefined) members.push(`${JSON.stringify(key)}:${stringify(member)}`);
  }
  return `{${members.join(',')}}`;
}
