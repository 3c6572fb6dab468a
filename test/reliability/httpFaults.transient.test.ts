import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { expectWholeSnapshots } from '../snapshot/support';
import { expectFailureOf, HTTP_FAULTS } from './httpFaults';
import {
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

/**
 * Faults the client's retries absorb: one Partner Center answer in ten carries the fault for the
 * whole run (partner summary and customers list included). With 5 retries (the production
 * default) a request fails for good with odds of one in a million, so the run must succeed, but
 * for one documented case: a mangled "no usage data" 404 (see httpFaults.ts).
 */
describe('fault matrix: per-request faults within the retries', () => {
  let h: ReliabilityHarness;
  beforeAll(async () => {
    h = await startReliabilityHarness();
    await seedSnapshot(h);
  });
  afterAll(() => h.close());

  test.each(HTTP_FAULTS)(
    'when one answer in ten is $label, then $transientOutcome, with every customer once, readers see whole snapshots, and the next run completes',
    async (fault) => {
      const before = await beginCase(h);
      const { client } = h.newClient({ settings: { maxRetries: 5, ...fault.client } });
      const counted = h.sandbox.counters.snapshot();
      const lines = h.lines.length;
      h.sandbox.faults.set({ [fault.kind]: 0.1, ...fault.extra });

      const { result, polls } = await whileReading(h.store, () => startScheduledRun(h.deps(client)));
      h.sandbox.faults.clear();
      const run = finishedRun(result);
      const after = await captureAll(h.store);

      const { failed } = await auditRun(h, run, { before, complete: true });
      for (const row of failed) {
        expect(fault.manglesNoUsageData).toBe(true);
        await expectFailureOf(fault, row, h.truth);
      }
      expect(run).toMatchObject({
        state: failed.length === 0 ? 'succeeded' : 'partial',
        counts: { customersWritten: h.sandbox.data.customerCount - failed.length },
      });
      const injected =
        (h.sandbox.counters.snapshot().faults[fault.kind] ?? 0) - (counted.faults[fault.kind] ?? 0);
      expect(injected).toBeGreaterThan(0);
      // Every injected fault cost one retry, except where it failed a customer at once.
      const newLines = h.lines.slice(lines);
      const retries = newLines.filter((l) => l.line.startsWith('Partner Center request failed; retrying'));
      expect(retries.length + failed.length).toBe(injected);
      expect(events(newLines, 'CustomerSnapshotFailed')).toHaveLength(failed.length);
      expectWholeSnapshots(polls, before, after);

      await expectNextRunCompletes(h);
    },
  );
});
