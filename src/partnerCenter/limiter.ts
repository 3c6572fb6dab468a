import Bottleneck from 'bottleneck';
import { abortable } from './abortable';
import { RequestAbortedError } from './errors';

/**
 * Client-side pacing, so a snapshot stays under Partner Center's limits instead of bouncing off
 * 429s (and every rejected call counts against the limit too).
 *
 * Why Bottleneck: it is the long-established Node rate limiter (zero dependencies, typed, millions
 * of weekly downloads), does both things we need in one object (a minimum spacing between job
 * starts and a concurrency cap), and keeps its queue in process without timers while idle. Its
 * pace is set with `minTime` = 60 000 / requests-per-minute rather than a refilled reservoir: the
 * spacing already bounds every 60-second window to the limit, and it does not fire a minute's
 * budget in one burst at the top of each minute (which is what per-minute buckets punish).
 */
export interface RequestLimiter {
  /** Runs `job` when the pace and the concurrency cap allow; an abort while queued rejects at once. */
  run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Jobs queued or running; for tests and diagnostics. */
  pending(): number;
}

export interface LimiterOptions {
  requestsPerMinute: number;
  maxConcurrency: number;
}

export function createRequestLimiter(options: LimiterOptions): RequestLimiter {
  const bottleneck = new Bottleneck({
    maxConcurrent: options.maxConcurrency,
    minTime: Math.ceil(60_000 / options.requestsPerMinute),
  });

  return {
    run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(new RequestAbortedError());
      const scheduled = bottleneck.schedule(() => {
        // The caller gave up while this waited its turn: send nothing.
        if (signal?.aborted) return Promise.reject(new RequestAbortedError());
        return job();
      });
      return abortable(scheduled, signal);
    },
    pending: () => bottleneck.counts().QUEUED + bottleneck.counts().RUNNING + bottleneck.counts().EXECUTING,
  };
}
