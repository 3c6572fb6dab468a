/**
 * The sandbox's notion of now. It runs with the wall clock from a chosen start (or stands still
 * when frozen); tests move it with `setNow` and `advance`. Usage amounts, token expiry, throttling
 * buckets and continuation tokens all read this clock, never Date.now().
 */
export class SandboxClock {
  private offsetMs: number;
  private frozenAt: number | undefined;

  constructor(start?: Date | string | number, frozen = false) {
    const startMs = start === undefined ? Date.now() : toMs(start);
    this.offsetMs = startMs - Date.now();
    this.frozenAt = frozen ? startMs : undefined;
  }

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  setNow(when: Date | string | number): void {
    const ms = toMs(when);
    if (this.frozenAt !== undefined) this.frozenAt = ms;
    else this.offsetMs = ms - Date.now();
  }

  advance(ms: number): void {
    this.setNow(this.now() + ms);
  }

  /** Stops the clock where it is; it moves only through setNow/advance until resumed. */
  freeze(): void {
    this.frozenAt = this.now();
  }

  resume(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = undefined;
  }

  get frozen(): boolean {
    return this.frozenAt !== undefined;
  }
}

function toMs(when: Date | string | number): number {
  const ms = when instanceof Date ? when.getTime() : typeof when === 'number' ? when : Date.parse(when);
  if (!Number.isFinite(ms)) throw new Error(`not a date: ${String(when)}`);
  return ms;
}

/** A billing period [start, end) in epoch milliseconds. */
export interface BillingPeriod {
  start: number;
  end: number;
}

/** The calendar month (UTC) holding `ms`: the sandbox's billing period. */
export function billingPeriodAt(ms: number): BillingPeriod {
  const at = new Date(ms);
  const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
  const end = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
  return { start, end };
}

/**
 * A date-time the way Partner Center writes them (.NET DateTimeOffset through Json.NET):
 * "2019-08-01T23:00:16.57+00:00" — fraction trimmed of trailing zeros, offset spelled out.
 */
export function formatPartnerCenterDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction ? `.${fraction}` : ''}+00:00`;
}

/** A timestamp the way Entra ID writes them in error bodies: "2025-03-15 12:00:00Z". */
export function formatEntraTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}
