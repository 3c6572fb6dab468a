import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { createUsageStore } from '../../src/storage/tableUsageStore';
import { finishedRun } from '../snapshot/support';
import { pollOverHttp, pollReader, refusingTables, type Target } from './flipChecks';
import { useReadingHarness } from './readHost';
import { pcGuid, plainTenant } from './scriptedPartnerCenter';
import { readerOf } from './support';

let mockRoot: unknown;
jest.mock('../../src/app/dependencies', () => ({
  dependencies: () => {
    if (!mockRoot) throw new Error('test root not ready');
    return mockRoot;
  },
}));

/**
 * Issue 15, "a customer flips as one": while a run with injected Partner Center and Table Storage
 * failures replaces every customer, portals poll each customer and its subscriptions over HTTP
 * (and through the storage reader). No subscription is ever newer than its customer, and a
 * customer that did not change between two reads serves every subscription from that same commit.
 */
const CUSTOMERS = 10;
const SUBSCRIPTIONS = 3;
const targets: Target[] = Array.from({ length: CUSTOMERS }, (_, c) => ({
  customerId: pcGuid(c + 1),
  subscriptionIds: Array.from({ length: SUBSCRIPTIONS }, (_, s) => pcGuid(s + 1, c + 1)),
}));

const setup = useReadingHarness(plainTenant(CUSTOMERS, SUBSCRIPTIONS, 3), (root) => {
  mockRoot = root;
});

test('when a run meets failing subscriptions and refused storage writes, then no poll over HTTP or the reader ever sees a subscription newer than its customer, and no read answers 5xx', async () => {
  expect(finishedRun(await startScheduledRun(setup.h.deps())).state).toBe('succeeded');

  for (const round of [1, 2]) {
    setup.h.pc.serve(plainTenant(CUSTOMERS, SUBSCRIPTIONS, 3, `${round}7.5`));
    // Partner Center: the third subscription of every third customer fails after its first two were read.
    const removals = targets
      .filter((_, c) => c % 3 === round % 3)
      .map((t) =>
        setup.h.pc.fail(new RegExp(`/subscriptions/${t.subscriptionIds[2]}/usagerecords/resources`), 500),
      );
    // Table Storage: every fifth transaction into the customers' partitions is refused.
    const store = createUsageStore(refusingTables(setup.h.store.tables, (n) => n % 5 === 0));
    let done = false;
    const run = startScheduledRun(
      setup.h.deps({ store, settings: { timeBudgetMs: 30_000, customerConcurrency: 2 } }),
    ).finally(() => {
      done = true;
    });
    const [http, reader] = await Promise.all([
      pollOverHttp(setup.host.get, targets, () => done),
      pollReader(readerOf(setup.h.store), targets, () => done),
    ]);
    const finished = finishedRun(await run);
    for (const remove of removals) remove();

    expect(finished.state).toBe('partial');
    expect(finished.counts.customersFailed).toBeGreaterThan(0);
    expect(finished.counts.customersWritten).toBeGreaterThan(0);
    expect(http.problems).toEqual([]);
    expect(reader.problems).toEqual([]);
    expect(http.polls + reader.polls).toBeGreaterThan(CUSTOMERS);
    // After the run, every customer serves all of its subscriptions from its own commit.
    const after = await pollOverHttp(setup.host.get, targets, () => true);
    expect(after.problems).toEqual([]);
    expect(after.flipsSeen).toBe(0);
    for (const t of targets) {
      const customer = await setup.host.get(`/api/v1/customers/${t.customerId}/subscriptions`);
      for (const s of t.subscriptionIds) {
        const resources = await setup.host.get(
          `/api/v1/customers/${t.customerId}/subscriptions/${s}/resources`,
        );
        expect({ status: resources.status, runId: resources.runId, takenAt: resources.takenAt }).toEqual({
          status: 200,
          runId: customer.runId,
          takenAt: customer.takenAt,
        });
      }
    }
  }
}, 120_000);
