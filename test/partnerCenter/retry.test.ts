import { RequestAbortedError } from '../../src/partnerCenter/errors';
import { withRetries, type AttemptOutcome, type RetryPolicy } from '../../src/partnerCenter/retry';

const POLICY: RetryPolicy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4, maxTotalMs: 10_000 };
const failing = (message = 'busy'): AttemptOutcome<never> => ({ kind: 'retry', failure: new Error(message) });

test('when every attempt fails, then 1 + maxRetries attempts are made and the last failure is thrown', async () => {
  const seen: number[] = [];
  const retries: number[] = [];
  const result = withRetries(
    async (n) => {
      seen.push(n);
      return failing(`attempt ${n}`);
    },
    { policy: POLICY, onRetry: ({ retry }) => retries.push(retry) },
  );
  await expect(result).rejects.toThrow('attempt 4');
  expect(seen).toEqual([1, 2, 3, 4]);
  expect(retries).toEqual([1, 2, 3]);
});

test('when an attempt succeeds after two failures, then its value is returned', async () => {
  const value = await withRetries(async (n) => (n < 3 ? failing() : { kind: 'done', value: `ok ${n}` }), {
    policy: POLICY,
  });
  expect(value).toBe('ok 3');
});

test('when the server says Retry-After 200 ms, then the wait is at least that, with the backoff on top', async () => {
  const delays: number[] = [];
  const started = Date.now();
  await withRetries(
    async (n) =>
      n === 1 ? { kind: 'retry', failure: new Error('429'), retryAfterMs: 200 } : { kind: 'done', value: n },
    { policy: POLICY, random: () => 0.5, onRetry: ({ delayMs }) => delays.push(delayMs) },
  );
  expect(delays).toEqual([200]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(195);
});

test('when the next wait would end past maxTotalMs, then the failure is thrown without waiting', async () => {
  let clock = 0;
  const attempts: number[] = [];
  const result = withRetries(
    async (n) => {
      attempts.push(n);
      clock += 1_000;
      return { kind: 'retry', failure: new Error(`late ${n}`), retryAfterMs: 60_000 };
    },
    { policy: { ...POLICY, maxTotalMs: 30_000 }, now: () => clock },
  );
  await expect(result).rejects.toThrow('late 1');
  expect(attempts).toEqual([1]);
});

test('when an attempt asks to go again (a refreshed token), then it does not count against maxRetries', async () => {
  const seen: number[] = [];
  const value = await withRetries(
    async (n) => {
      seen.push(n);
      if (n === 1) return { kind: 'again' };
      return n < 5 ? failing() : { kind: 'done', value: n };
    },
    { policy: POLICY },
  );
  expect(value).toBe(5);
  expect(seen).toEqual([1, 2, 3, 4, 5]);
});

test('when the signal aborts during a wait, then RequestAbortedError is thrown at once', async () => {
  const controller = new AbortController();
  const result = withRetries(
    async () => ({ kind: 'retry', failure: new Error('503'), retryAfterMs: 60_000 }),
    {
      policy: { ...POLICY, maxTotalMs: 120_000 },
      signal: controller.signal,
      label: 'GET /v1/customers',
      onRetry: () => setTimeout(() => controller.abort(), 10),
    },
  );
  await expect(result).rejects.toBeInstanceOf(RequestAbortedError);
});

test('when an attempt throws, then nothing is retried', async () => {
  let calls = 0;
  const result = withRetries(
    async () => {
      calls++;
      throw new Error('400 Bad Request');
    },
    { policy: POLICY },
  );
  await expect(result).rejects.toThrow('400 Bad Request');
  expect(calls).toBe(1);
});
