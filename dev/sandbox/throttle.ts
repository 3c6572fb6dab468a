import type { SandboxClock } from './clock';

/** Requests per minute; 0 turns a limit off. */
export interface RateLimits {
  /** Every Partner Center call of the partner tenant. */
  partnerPerMinute: number;
  /** Calls scoped to one customer, counted per partner + customer. */
  customerPerMinute: number;
  /** Rejected calls still use up quota, as Microsoft warns ("every retry counts"). */
  countRejected: boolean;
}

export const NO_LIMITS: RateLimits = { partnerPerMinute: 0, customerPerMinute: 0, countRejected: true };

export type ThrottleDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets holding a minute's worth of calls and refilling continuously, on the sandbox
 * clock: a frozen clock never refills, so tests get exact, repeatable 429s.
 */
export class Throttle {
  private buckets = new Map<string, Bucket>();
  private current: RateLimits;

  constructor(
    limits: Partial<RateLimits>,
    private readonly clock: SandboxClock,
  ) {
    this.current = { ...NO_LIMITS, ...limits };
  }

  get limits(): RateLimits {
    return { ...this.current };
  }

  /** Changes the limits and refills every bucket. */
  set(limits: Partial<RateLimits>): void {
    this.current = { ...this.current, ...limits };
    this.buckets = new Map();
  }

  /** Takes one call from the partner bucket and, when a customer is named, from that customer's. */
  take(partner: string, customer: string | undefined): ThrottleDecision {
    const partnerDecision = this.takeFrom(`p:${partner}`, this.current.partnerPerMinute);
    if (!partnerDecision.ok || customer === undefined) return partnerDecision;
    return this.takeFrom(`c:${partner}:${customer.toLowerCase()}`, this.current.customerPerMinute);
  }

  private takeFrom(key: string, perMinute: number): ThrottleDecision {
    if (perMinute <= 0) return { ok: true };
    const now = this.clock.now();
    const perMs = perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updatedAt: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + Math.max(0, now - bucket.updatedAt) * perMs);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    if (this.current.countRejected) bucket.tokens = Math.max(-perMinute, bucket.tokens - 1);
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }
}
