import { resumeActiveRun, startScheduledRun } from '../../src/snapshot/runSnapshot';
import {
  afterCommits,
  beginCase,
  captureAll,
  expectNextRunCompletes,
  expectResumedRunComplete,
  finishedRun,
  requestsSince,
  runListRows,
  seedSnapshot,
  startReliabilityHarness,
  startStorageProxy,
  waitFor,
  whileReading,
  type ReliabilityHarness,
  type StorageProxy,
} from './support';

const LEASE_TTL_MS = 1_500;
const STORAGE_TIMEOUT_MS = 400;

/**
 * Table Storage goes away mid-run and comes back: the app reaches Azurite through a loopback proxy
 * that either refuses and cuts every connection (down, 1.5 s) or accepts them and never answers
 * (a black hole, 3 s: each write then fails after two timed-out attempts, about 0.85 s, which
 * leaves the outage well under way when the invocation gives up). Restarting Azurite itself would
 * bring it back empty, since it runs in memory.
 */
const OUTAGES = [
  {
    name: 'storage is unreachable',
    seconds: 1.5,
    begin: (proxy: StorageProxy) => proxy.cut(),
    failure: /ECONNREFUSED|ECONNRESET|socket hang up/,
  },
  {
    name: 'storage accepts connections but never answers',
    seconds: 3,
    begin: (proxy: StorageProxy) => Promise.resolve(proxy.stall()),
    failure: new RegExp(`did not answer .* within ${STORAGE_TIMEOUT_MS / 1000} s`),
  },
];

describe('fault matrix: Table Storage outage', () => {
  let proxy: StorageProxy;
  let h: ReliabilityHarness;
  beforeAll(async () => {
    proxy = await startStorageProxy();
    // Some latency, so the run is still going when storage returns.
    h = await startReliabilityHarness({
      connectionString: proxy.connectionString,
      storageTimeoutMs: STORAGE_TIMEOUT_MS,
      sandbox: { faults: { latencyMs: 15 } },
    });
    await seedSnapshot(h);
  });
  afterAll(async () => {
    await h.close();
    await proxy.close();
  });

  test.each(OUTAGES)(
    'when $name for $seconds s mid-run, then the invocation stops at the first write it cannot make and leaves the run running, a resumed invocation skips the checkpointed customers and completes it with every customer once, readers never see a half-written snapshot, and the next run completes',
    async (outageCase) => {
      const before = await beginCase(h);
      let outage: Promise<void> | undefined;
      const store = afterCommits(h.store, (n) => {
        if (n !== 8) return;
        outage = (async () => {
          await outageCase.begin(proxy);
          await new Promise((r) => setTimeout(r, outageCase.seconds * 1000));
          await proxy.restore();
        })();
      });
      const deps = h.deps(h.newClient().client, {
        store,
        leaseTtlMs: LEASE_TTL_MS,
        checkpointIntervalMs: 100,
        settings: { timeBudgetMs: 60_000, customerConcurrency: 4, mode: 'full' },
      });

      const { result, polls, failedPolls } = await whileReading(h.store, async () => {
        const first = await startScheduledRun(deps).catch((error: unknown) => error);
        await outage;
        // Storage is back; the invocation that gave up still holds the lease until it lapses.
        const active = await h.store.runs.activeRun();
        const checkpointed = active ? (await runListRows(h.store, active.run.runId)).length : 0;
        await waitFor(async () => (await h.store.runs.activeRun())?.holder === undefined, 10_000, 50);
        const counted = h.sandbox.counters.snapshot();
        const resumed = await resumeActiveRun(h.deps(h.newClient().client, { leaseTtlMs: LEASE_TTL_MS }));
        const refetched = requestsSince(h.sandbox, counted, 'GET /v1/customers/{customerId}/usagesummary');
        return { first, active, checkpointed, resumed, refetched };
      });
      const after = await captureAll(h.store);

      expect(outage).toBeDefined();
      expect(failedPolls).toBeGreaterThan(0);
      // The invocation stopped on the first write it could not make, without finishing the run.
      expect(result.first).toBeInstanceOf(Error);
      expect(String((result.first as Error).message)).toMatch(outageCase.failure);
      expect(result.active?.run).toMatchObject({ state: 'running', invocations: 1 });
      // The resumed invocation skipped every checkpointed customer and redid the rest.
      const run = finishedRun(result.resumed);
      await expectResumedRunComplete(h, run, {
        ...result,
        runId: result.active?.run.runId,
        before,
        after,
        polls,
      });

      await expectNextRunCompletes(h);
    },
  );
});
