import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { expectWholeSnapshots } from '../snapshot/support';
import {
  answersWith,
  auditRun,
  beginCase,
  captureAll,
  events,
  expectNextRunCompletes,
  finishedRun,
  seedSnapshot,
  startReliabilityHarness,
  whileReading,
  type ReliabilityHarness,
} from './support';

const PER_MINUTE = 600;

/** Uses up the partner's bucket but `left` calls, as other clients of the same partner would. */
async function drainBucket(h: ReliabilityHarness, left: number): Promise<void> {
  const token = h.sandbox.issueAccessToken();
  let remaining = PER_MINUTE - left;
  const worker = async () => {
    while (remaining-- > 0) {
      const response = await fetch(`${h.sandbox.baseUrl}/v1/usagesummary`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      });
      await response.arrayBuffer();
      expect(response.status).toBe(200);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

describe('fault matrix: 429 storms', () => {
  let h: ReliabilityHarness;
  beforeAll(async () => {
    h = await startReliabilityHarness();
    await seedSnapshot(h);
  });
  afterAll(() => h.close());

  test('when Partner Center throttles mid-run with Retry-After until the minute passes, then every 429 is waited out in full and retried, the run succeeds with every customer written once, readers see whole snapshots, and the next run completes', async () => {
    const before = await beginCase(h);
    // A bucket of 600 a minute (10 a second): while it is empty, Retry-After is 1-3 s.
    h.sandbox.limits.set({ partnerPerMinute: PER_MINUTE });
    await drainBucket(h, 20);
    const counted = h.sandbox.counters.snapshot();
    const throttled = () => h.sandbox.counters.snapshot().throttled - counted.throttled;
    // The sandbox clock is frozen, so the bucket refills only when the storm's minute is over.
    let stormOverAt = 0;
    const storm = setInterval(() => {
      if (throttled() >= 12) {
        clearInterval(storm);
        stormOverAt = Date.now();
        h.sandbox.clock.advance(60_000);
      }
    }, 10);
    const lines = h.lines.length;
    const { client } = h.newClient({ settings: { maxRetries: 5 } });

    const started = Date.now();
    const { result, polls } = await whileReading(h.store, () => startScheduledRun(h.deps(client)));
    clearInterval(storm);
    const run = finishedRun(result);
    const after = await captureAll(h.store);
    const counters = h.sandbox.counters.snapshot();

    expect(run).toMatchObject({
      state: 'succeeded',
      counts: { customersWritten: h.sandbox.data.customerCount, customersFailed: 0 },
    });
    const storms = answersWith(counters, '429') - answersWith(counted, '429');
    expect(storms).toBeGreaterThanOrEqual(12);
    expect(stormOverAt).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    // Each 429 was retried once, after at least the Retry-After it carried (1 s or more).
    const retries = h.lines
      .slice(lines)
      .filter((l) => l.line.startsWith('Partner Center request failed; retrying') && l.line.includes('429'))
      .map(
        (l) => JSON.parse(l.line.slice(l.line.indexOf('{'))) as { delayMs: number; retryAfterMs?: number },
      );
    expect(retries).toHaveLength(storms);
    for (const retry of retries) {
      expect(retry.retryAfterMs).toBeGreaterThanOrEqual(1_000);
      expect(retry.delayMs).toBeGreaterThanOrEqual(retry.retryAfterMs ?? Infinity);
    }
    expect(events(h.lines.slice(lines), 'CustomerSnapshotFailed')).toEqual([]);
    await auditRun(h, run, { before, complete: true });
    expectWholeSnapshots(polls, before, after);

    await expectNextRunCompletes(h);
  });
});
