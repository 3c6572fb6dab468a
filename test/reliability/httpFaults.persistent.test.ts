import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { detailCalls, expectWholeSnapshots } from '../snapshot/support';
import { expectFailureOf, HTTP_FAULTS } from './httpFaults';
import {
  afterCommits,
  auditRun,
  beginCase,
  captureAll,
  events,
  expectNextRunCompletes,
  finishedRun,
  runListRows,
  seedSnapshot,
  startReliabilityHarness,
  whileReading,
  type ReliabilityHarness,
} from './support';

/**
 * Faults that outlast the client's retries: from the 6th committed customer every Partner Center
 * answer carries the fault, until the 4th customer has failed. The customers caught in it fail
 * with their reason, the rest are written, and the run ends partial.
 */
describe('fault matrix: per-request faults beyond the retries', () => {
  let h: ReliabilityHarness;
  beforeAll(async () => {
    h = await startReliabilityHarness();
    await seedSnapshot(h);
  });
  afterAll(() => h.close());

  test.each(HTTP_FAULTS)(
    'when $label persist past the retries mid-run, then the run is partial with each caught customer failed as $failure.code, the rest written once, readers see whole snapshots, and the next run completes',
    async (fault) => {
      const before = await beginCase(h);
      let failures = 0;
      const stopListening = h.onLine((l) => {
        if (l.line.startsWith('event=CustomerSnapshotFailed') && ++failures === 4) h.sandbox.faults.clear();
      });
      const store = afterCommits(h.store, (n) => {
        if (n === 6) h.sandbox.faults.set({ [fault.kind]: 1, ...fault.extra });
      });
      const { client } = h.newClient({ settings: fault.client });
      const lines = h.lines.length;

      const { result, polls } = await whileReading(h.store, () =>
        startScheduledRun(h.deps(client, { store })),
      );
      h.sandbox.faults.clear();
      stopListening();
      const run = finishedRun(result);
      const after = await captureAll(h.store);

      expect(run.state).toBe('partial');
      expect(run.counts.customersFailed).toBeGreaterThanOrEqual(4);
      expect(run.counts.customersWritten).toBeGreaterThanOrEqual(6);
      expect(run.reason).toBe(`${run.counts.customersFailed} customer(s) failed`);
      const { failed } = await auditRun(h, run, { before, complete: true });
      for (const row of failed) await expectFailureOf(fault, row, h.truth);
      const newLines = h.lines.slice(lines);
      expect(events(newLines, 'CustomerSnapshotFailed')).toHaveLength(failed.length);
      expect(events(newLines, 'SnapshotRunPartial')).toHaveLength(1);
      // The partial run is published: its list names every customer, failed ones included.
      expect((await h.store.getPartnerSummary())?.snapshot.runId).toBe(run.runId);
      expect(polls.length).toBeGreaterThan(0);
      expectWholeSnapshots(polls, before, after);

      await expectNextRunCompletes(h);
    },
  );

  test('when Partner Center answers 503 from the start of a run, then the run fails on the partner summary with the status in its reason and the previous snapshot stays served', async () => {
    const before = await beginCase(h);
    h.sandbox.faults.set({ status503: 1 });
    const { client } = h.newClient();

    const { result, polls } = await whileReading(h.store, () => startScheduledRun(h.deps(client)));
    h.sandbox.faults.clear();
    const run = finishedRun(result);

    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/^Partner usage summary failed: PartnerCenterHttp 503: /);
    expect(await runListRows(h.store, run.runId)).toEqual([]);
    expect(await captureAll(h.store)).toEqual(before);
    expectWholeSnapshots(polls, before, before);
    expect(await h.store.runs.activeRun()).toBeUndefined();

    await expectNextRunCompletes(h);
  });

  test('when the customers list keeps failing, then the run fails with the list as its reason and the previous snapshot stays served', async () => {
    const before = await beginCase(h);
    const { client } = h.newClient();
    // The partner summary answers; every call after it gets a 500.
    const failing: SnapshotPartnerCenter = {
      ...detailCalls(client),
      getPartnerUsageSummary: async (o) => {
        const summary = await client.getPartnerUsageSummary(o);
        h.sandbox.faults.set({ status500: 1 });
        return summary;
      },
      listCustomerUsageRecords: client.listCustomerUsageRecords.bind(client),
      getCustomerUsageSummary: client.getCustomerUsageSummary.bind(client),
      listSubscriptionUsageRecords: client.listSubscriptionUsageRecords.bind(client),
      listResourceUsageRecords: client.listResourceUsageRecords.bind(client),
    };

    const run = finishedRun(await startScheduledRun(h.deps(failing)));
    h.sandbox.faults.clear();

    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/^Customers list failed: PartnerCenterHttp 500: /);
    expect(await captureAll(h.store)).toEqual(before);
    expect(await h.store.runs.activeRun()).toBeUndefined();

    await expectNextRunCompletes(h);
  });
});
