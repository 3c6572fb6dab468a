import type { Logger } from '../observability/logger';
import { RequestAbortedError } from './errors';

/**
 * How the client retries a request after 429, 408, 5xx, a network error, a timeout or a body
 * that is not JSON. Bounded twice: in count (maxRetries) and in time (maxTotalMs from the first
 * attempt), so a throttled or failing Partner Center cannot hold a function invocation forever.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (PARTNER_CENTER_MAX_RETRIES). */
  maxRetries: number;
  /** Backoff cap of retry n is baseDelayMs * 2^n, at most maxDelayMs; the wait is drawn below it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** No retry starts later than this after the first attempt. */
  maxTotalMs: number;
}

export const DEFAULT_RETRY: Omit<RetryPolicy, 'maxRetries'> = {
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxTotalMs: 5 * 60_000,
};

/**
 * Milliseconds a `Retry-After` header asks for: delta-seconds ("57") or an HTTP date. Undefined
 * when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * Exponential backoff with full jitter (uniform in [0, min(maxDelayMs, baseDelayMs * 2^retry)]),
 * which spreads the retries of concurrent callers instead of synchronising them.
 */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}

/**
 * The wait before retry number `retry` (0-based). When the server said Retry-After, that much is
 * waited in full and the jittered backoff comes on top, so repeated 429s back off further and
 * parallel callers do not all return in the same instant.
 */
export function retryDelayMs(
  retry: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  return (retryAfterMs ?? 0) + backoffMs(retry, policy, random);
}

/** Resolves after `ms`, or rejects with RequestAbortedError as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal, endpoint?: string): Promise<void> {
  if (signal?.aborted) return Promise.reject(new RequestAbortedError(endpoint));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new RequestAbortedError(endpoint));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What one attempt came to. */
export type AttemptOutcome<T> =
  | { kind: 'done'; value: T }
  /** Worth another try after the backoff; `retryAfterMs` is the server's Retry-After, if any. */
  | { kind: 'retry'; failure: Error; retryAfterMs?: number }
  /** Repeat at once, outside the retry budget (a refreshed access token after a 401). */
  | { kind: 'again' };

export interface RetryOptions {
  policy: RetryPolicy;
  /** Cuts a wait short with RequestAbortedError(`label`). */
  signal?: AbortSignal;
  label?: string;
  /** Reported before each wait; `retry` counts from 1. */
  onRetry?: (retry: { failure: Error; retry: number; delayMs: number; retryAfterMs?: number }) => void;
  now?: () => number;
  random?: () => number;
}

/**
 * Runs `attempt` until it is done, throws, or the policy is spent: then the last failure is thrown.
 * Bounded by `maxRetries` and by `maxTotalMs` from the first attempt (no wait that would end
 * past it is started); each wait is the server's Retry-After, if any, plus jittered backoff.
 * `attempt` gets its 1-based number, counting every attempt.
 */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<AttemptOutcome<T>>,
  options: RetryOptions,
): Promise<T> {
  const { policy } = options;
  const now = options.now ?? Date.now;
  const firstAt = now();
  let retries = 0;
  for (let attemptNumber = 1; ; attemptNumber++) {
    const outcome = await attempt(attemptNumber);
    if (outcome.kind === 'done') return outcome.value;
    if (outcome.kind === 'again') continue;
    if (retries >= policy.maxRetries) throw outcome.failure;
    const delayMs = retryDelayMs(retries, policy, outcome.retryAfterMs, options.random);
    if (now() + delayMs - firstAt > policy.maxTotalMs) throw outcome.failure;
    retries++;
    options.onRetry?.({
      failure: outcome.failure,
      retry: retries,
      delayMs,
      retryAfterMs: outcome.retryAfterMs,
    });
    await sleep(delayMs, options.signal, options.label);
  }
}

/** 408, 429 and 5xx other than 501/505 (which will not change on a second try). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** An HTTP error answer: thrown when another try cannot help, else retried after its Retry-After. */
export function retryOrThrow<T>(
  status: number,
  failure: Error,
  retryAfter: string | undefined,
): AttemptOutcome<T> {
  if (!isRetryableStatus(status)) throw failure;
  return { kind: 'retry', failure, retryAfterMs: parseRetryAfter(retryAfter) };
}

/**
 * RetryOptions whose every retry is logged as a warning: `message`, the endpoint, the reason and
 * the wait, plus `context()` (the latest attempt's request ids).
 */
export function loggedRetries(options: {
  policy: RetryPolicy;
  signal?: AbortSignal;
  endpoint: string;
  random?: () => number;
  logger: Logger;
  message: string;
  context?: () => Record<string, unknown>;
}): RetryOptions {
  return {
    policy: options.policy,
    signal: options.signal,
    label: options.endpoint,
    random: options.random,
    onRetry: ({ failure, retry, delayMs, retryAfterMs }) =>
      options.logger.warn(options.message, {
        endpoint: options.endpoint,
        reason: failure.message,
        retry,
        of: options.policy.maxRetries,
        delayMs,
        retryAfterMs,
        ...options.context?.(),
      }),
  };
}
