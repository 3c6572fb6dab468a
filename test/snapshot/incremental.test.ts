import { resourceGroupCosts } from '../../src/domain/azurePlan';
import type { UsageReader } from '../../src/domain/usageReader';
import type { PartnerCenterClient } from '../../src/partnerCenter/partnerCenterClient';
import { canCarryOver, type SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import { continueRun, resumeActiveRun, runSnapshotToCompletion } from '../../src/snapshot/runSnapshot';
import { customerPartition } from '../../src/storage/keys';
import { newStore } from '../storage/factories';
import {
  collect,
  expectStoreMatchesPartnerCenter,
  finishedRun,
  startSnapshotHarness,
  storedCustomers,
  type SnapshotHarness,
} from './support';

const CUSTOMERS = 40;
const HOUR = 3600_000;
const SUMMARY_ROUTE = 'GET /v1/customers/{customerId}/usagesummary';

let h: SnapshotHarness;
/** The harness's store, without the reader's memory of the current run: each read sees the last run. */
let store: Awaited<ReturnType<typeof newStore>>;
beforeAll(async () => {
  // A quarter of the customers move in each hour; the clock stands still unless a test moves it.
  h = await startSnapshotHarness({ customers: CUSTOMERS, movingShare: 0.25 });
  store = await newStore({ currentRunCacheMs: 0 });
});
afterAll(() => h.close());

/** Partner Center requests since `before`: all of them, and the customer-scoped ones. */
function requestsSince(before: ReturnType<SnapshotHarness['sandbox']['counters']['snapshot']>) {
  const now = h.sandbox.counters.snapshot();
  const count = (snapshot: typeof now, scoped: boolean) =>
    Object.entries(snapshot.requests)
      .filter(([route]) => !scoped || route.includes('{customerId}'))
      .reduce((sum, [, byStatus]) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
  return {
    total: count(now, false) - count(before, false),
    customerScoped: count(now, true) - count(before, true),
    summaries:
      Object.values(now.requests[SUMMARY_ROUTE] ?? {}).reduce((a, b) => a + b, 0) -
      Object.values(before.requests[SUMMARY_ROUTE] ?? {}).reduce((a, b) => a + b, 0),
  };
}

async function run(overrides: Parameters<SnapshotHarness['deps']>[0] = {}) {
  const before = h.sandbox.counters.snapshot();
  const result = finishedRun(await runSnapshotToCompletion(h.deps({ store, ...overrides })));
  return { run: result, requests: requestsSince(before) };
}

const settings = (more: { mode?: 'full' | 'incremental'; fullRefreshMs?: number } = {}) => ({
  timeBudgetMs: 60_000,
  customerConcurrency: 8,
  ...more,
});

/**
 * A read's JSON without what names the run or the time it was taken (they differ run to run), nor
 * a history page's continuation token (a store with more runs has more history after it).
 */
const VARIES = new Set(['runId', 'takenAt', 'continuationToken']);
function normalised(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (VARIES.has(key) ? undefined : v));
}

/**
 * Every read the routes make, from two stores, compared field by field (run ids and takenAt left
 * out): the customers list, the partner summary, each customer's view and latest history point,
 * each subscription's resources and latest history point. Returns how many reads were compared.
 */
async function expectSameReads(actual: UsageReader, expected: UsageReader): Promise<number> {
  let compared = 0;
  let groupsCompared = 0;
  const same = (a: unknown, b: unknown) => {
    compared++;
    expect(normalised(a)).toBe(normalised(b));
  };
  const byId = (a: { customerId: string }, b: { customerId: string }) =>
    a.customerId.localeCompare(b.customerId);
  const customers = [...(await storedCustomers(expected))].sort(byId);
  same([...(await storedCustomers(actual))].sort(byId), customers);
  same(await actual.getPartnerSummary(), await expected.getPartnerSummary());
  const latest = { limit: 1 };
  for (const { customerId } of customers) {
    const view = await expected.getCustomer(customerId);
    same(await actual.getCustomer(customerId), view);
    same(
      await actual.customerHistory(customerId, latest),
      await expected.customerHistory(customerId, latest),
    );
    if (view.status !== 'found') continue;
    for (const { subscriptionId } of view.value.subscriptions) {
      same(
        await actual.getSubscriptionResources(customerId, subscriptionId),
        await expected.getSubscriptionResources(customerId, subscriptionId),
      );
      same(
        await actual.subscriptionHistory(customerId, subscriptionId, latest),
        await expected.subscriptionHistory(customerId, subscriptionId, latest),
      );
      // An Azure plan's resource groups: each group's latest point, carried runs included.
      const resources = await expected.getSubscriptionResources(customerId, subscriptionId);
      if (resources.status !== 'found') continue;
      for (const group of resourceGroupCosts(resources.value.detail?.resources ?? [])) {
        if (group.resourceGroup === undefined) continue;
        const query = { ...latest, azureSubscriptionId: group.azureSubscriptionId };
        same(
          await actual.resourceGroupHistory(customerId, subscriptionId, group.resourceGroup, query),
          await expected.resourceGroupHistory(customerId, subscriptionId, group.resourceGroup, query),
        );
        groupsCompared++;
      }
    }
  }
  expect(groupsCompared).toBeGreaterThan(0);
  return compared;
}

/** What a full run of the sandbox as it is now stores, in a store of its own. */
async function fullRunStore() {
  const full = await newStore({ currentRunCacheMs: 0 });
  finishedRun(await runSnapshotToCompletion(h.deps({ store: full, settings: settings({ mode: 'full' }) })));
  return full;
}

/** Rows of the run's customers list (its checkpoint) so far. */
async function runListCount(runId: string): Promise<number> {
  return (await store.writer.runProgress(runId)).finished.size;
}

const records = async (client: PartnerCenterClient) =>
  new Map((await collect(client.listCustomerUsageRecords())).map((r) => [r.customerId, JSON.stringify(r)]));

test('when nothing moved since a full run, then an incremental run asks Partner Center about no customer, carries every one over with its history point, and serves what a full run stores', async () => {
  const first = await run({ settings: settings({ mode: 'full' }) });
  expect(first.run.counts).toMatchObject({ customersWritten: CUSTOMERS, customersFetched: CUSTOMERS });
  expect(first.requests.summaries).toBe(CUSTOMERS);

  const second = await run();
  expect(second.run.state).toBe('succeeded');
  expect(second.run.counts).toMatchObject({
    customersWritten: CUSTOMERS,
    customersFetched: 0,
    customersCarriedOver: CUSTOMERS,
    customersFailed: 0,
  });
  // The partner summary and the customers list only.
  expect(second.requests.customerScoped).toBe(0);
  expect(second.requests.total).toBe(2);
  const [stored] = await store.listRuns(1);
  expect(stored.counts).toMatchObject({ customersFetched: 0, customersCarriedOver: CUSTOMERS });

  await expectStoreMatchesPartnerCenter(store, h.client);
  expect(await expectSameReads(store, await fullRunStore())).toBeGreaterThan(3 * CUSTOMERS);
  // Each customer and each subscription has a history point for both runs.
  for (const customer of await storedCustomers(store)) {
    const history = await store.customerHistory(customer.customerId, { limit: 10 });
    if (history.status !== 'found') throw new Error(`history of ${customer.customerId} is ${history.status}`);
    expect(history.value.items.map((p) => p.runId)).toEqual([second.run.runId, first.run.runId]);
    expect(normalised(history.value.items[0])).toBe(normalised(history.value.items[1]));
    const view = await store.getCustomer(customer.customerId);
    if (view.status !== 'found') continue;
    for (const { subscriptionId } of view.value.subscriptions) {
      const points = await store.subscriptionHistory(customer.customerId, subscriptionId, { limit: 10 });
      expect(points.status === 'found' && points.value.items.map((p) => p.runId)).toEqual([
        second.run.runId,
        first.run.runId,
      ]);
      const resources = await store.getSubscriptionResources(customer.customerId, subscriptionId);
      if (resources.status !== 'found') continue;
      for (const group of resourceGroupCosts(resources.value.detail?.resources ?? [])) {
        if (group.resourceGroup === undefined) continue;
        const groupPoints = await store.resourceGroupHistory(
          customer.customerId,
          subscriptionId,
          group.resourceGroup,
          {
            limit: 10,
            azureSubscriptionId: group.azureSubscriptionId,
          },
        );
        expect(groupPoints.status === 'found' && groupPoints.value.items.map((p) => p.runId)).toEqual([
          second.run.runId,
          first.run.runId,
        ]);
      }
    }
  }
}, 120_000);

test('when an hour passes and a budget changes, then only the customers whose monthly record moved are read again, and every read is what a full run stores', async () => {
  const before = await records(h.client);
  h.sandbox.clock.advance(HOUR);
  const usageMoved = await records(h.client);
  const stillIds = [...before.keys()].filter((id) => before.get(id) === usageMoved.get(id));
  // A customer whose usage stood still gets a budget: its record moves all the same.
  const budgeted = h.sandbox.data.findCustomer(stillIds[0]);
  if (!budgeted) throw new Error('no customer to budget');
  h.sandbox.data.setBudget(budgeted, 123456);
  const after = await records(h.client);
  const moved = [...before.keys()].filter((id) => before.get(id) !== after.get(id));
  expect(moved.length).toBeGreaterThan(1);
  expect(moved.length).toBeLessThan(CUSTOMERS / 2);
  expect(moved).toContain(budgeted.id);

  const { run: incremental, requests } = await run();
  expect(incremental.counts).toMatchObject({
    customersWritten: CUSTOMERS,
    customersFetched: moved.length,
    customersCarriedOver: CUSTOMERS - moved.length,
  });
  expect(requests.summaries).toBe(moved.length);

  await expectStoreMatchesPartnerCenter(store, h.client);
  await expectSameReads(store, await fullRunStore());
  for (const id of moved) {
    const view = await store.getCustomer(id);
    expect(view.status === 'found' && view.value.snapshot.runId).toBe(incremental.runId);
  }
}, 120_000);

test('when a carried customer’s committed view is torn, then it is read again instead, and serves whole', async () => {
  const [victim] = await storedCustomers(store);
  // The header names a part row that does not exist: the view cannot be read whole.
  await store.tables
    .table('Customers')
    .updateEntity({ partitionKey: customerPartition(victim.customerId), rowKey: 'view', parts: 1 }, 'Merge');
  await expect(store.getCustomer(victim.customerId)).rejects.toThrow(/missing/);

  const { run: next, requests } = await run();
  expect(next.counts).toMatchObject({
    customersFetched: 1,
    customersCarriedOver: CUSTOMERS - 1,
    customersFailed: 0,
  });
  expect(requests.summaries).toBe(1);
  const view = await store.getCustomer(victim.customerId);
  expect(view.status === 'found' && view.value.snapshot.runId).toBe(next.runId);
  await expectStoreMatchesPartnerCenter(store, h.client);
}, 120_000);

test('when a customer’s detail is older than the refresh age, then it is read again although its record did not move', async () => {
  const young = await run({ settings: settings({ fullRefreshMs: HOUR }) });
  expect(young.run.counts).toMatchObject({ customersFetched: 0, customersCarriedOver: CUSTOMERS });
  // The same state two hours later (the app's clock only): every detail is older than an hour.
  const later = await run({
    settings: settings({ fullRefreshMs: HOUR }),
    now: () => new Date(Date.now() + 2 * HOUR),
  });
  expect(later.run.counts).toMatchObject({ customersFetched: CUSTOMERS, customersCarriedOver: 0 });
  expect(later.requests.summaries).toBe(CUSTOMERS);
  await expectStoreMatchesPartnerCenter(store, h.client);
}, 120_000);

test('when the partner summary names a new billing period, then every customer is read again although no record moved', async () => {
  const nextPeriod: SnapshotPartnerCenter = {
    ...h.client,
    getPartnerUsageSummary: async (o) => ({
      ...(await h.client.getPartnerUsageSummary(o)),
      billingStartDate: '2025-04-01T00:00:00+00:00',
      billingEndDate: '2025-05-01T00:00:00+00:00',
    }),
    listCustomerUsageRecords: (o) => h.client.listCustomerUsageRecords(o),
    getCustomerUsageSummary: (id, o) => h.client.getCustomerUsageSummary(id, o),
    listSubscriptionUsageRecords: (id, o) => h.client.listSubscriptionUsageRecords(id, o),
    listResourceUsageRecords: (c, s, o) => h.client.listResourceUsageRecords(c, s, o),
    getSubscriptionUsageSummary: (c, s, o) => h.client.getSubscriptionUsageSummary(c, s, o),
    listMeterUsageRecords: (c, s, o) => h.client.listMeterUsageRecords(c, s, o),
    listPlanResourceUsageRecords: (c, s, o) => h.client.listPlanResourceUsageRecords(c, s, o),
    listAzureEntitlements: (c, s, o) => h.client.listAzureEntitlements(c, s, o),
  };
  const rollover = await run({ partnerCenter: nextPeriod });
  expect(rollover.run.counts).toMatchObject({ customersFetched: CUSTOMERS, customersCarriedOver: 0 });
  // The next run in the new period: the details are of it now, and carried over.
  const same = await run({ partnerCenter: nextPeriod });
  expect(same.run.counts).toMatchObject({ customersFetched: 0, customersCarriedOver: CUSTOMERS });
  // The real summary names the period before: the details are read again for it.
  const back = await run();
  expect(back.run.counts).toMatchObject({ customersFetched: CUSTOMERS, customersCarriedOver: 0 });
}, 120_000);

test('when the mode is full, then every customer is read although none moved', async () => {
  const full = await run({ settings: settings({ mode: 'full' }) });
  expect(full.run.counts).toMatchObject({ customersFetched: CUSTOMERS, customersCarriedOver: 0 });
  expect(full.requests.summaries).toBe(CUSTOMERS);
}, 120_000);

test('when an invocation dies after carrying customers over but before their checkpoint, then the resumed run carries them again at the same time: one history point each', async () => {
  let killed = false;
  let carried = 0;
  const hang = () => new Promise<never>(() => undefined);
  // Dies like a process after the 10th carry-over: nothing it calls answers again.
  const dying = <T extends object>(target: T, onCall?: (name: string | symbol) => void): T =>
    new Proxy(target, {
      get: (t, name) => {
        const value = Reflect.get(t, name) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          if (killed) return hang();
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          onCall?.(name);
          return result;
        };
      },
    });
  const doomed = {
    runs: dying(store.runs),
    writer: dying(store.writer, (name) => {
      if (name === 'carryOverCustomer' && ++carried >= 10) killed = true;
    }),
  };
  const requested = await store.requestRun('manual');
  void continueRun(
    h.deps({ store: doomed, holder: 'doomed', leaseTtlMs: 1_000, checkpointIntervalMs: 60_000 }),
    requested.runId,
  );
  while (!killed) await new Promise((r) => setTimeout(r, 20));
  expect(await runListCount(requested.runId)).toBe(0);
  await new Promise((r) => setTimeout(r, 1_500));

  const resumed = finishedRun(await resumeActiveRun(h.deps({ store })));
  expect(resumed.counts).toMatchObject({ customersCarriedOver: CUSTOMERS, customersFetched: 0 });
  for (const { customerId } of await storedCustomers(store)) {
    const history = await store.customerHistory(customerId, { limit: 100 });
    if (history.status !== 'found') throw new Error(`history of ${customerId} is ${history.status}`);
    expect(history.value.items.filter((p) => p.runId === requested.runId)).toHaveLength(1);
  }
}, 120_000);

describe('canCarryOver', () => {
  const now = new Date('2025-04-02T06:00:00Z');
  const committed = {
    takenAt: new Date('2025-04-02T00:00:00Z'),
    periodStart: '2025-04-01T00:00:00+00:00',
    sameRecord: true,
  };
  const policy = { refreshMs: 24 * HOUR, billingStartDate: '2025-04-01T00:00:00Z' };

  test('when the record is the same, young and of the run’s period, then it is carried over', () => {
    expect(canCarryOver(committed, policy, now)).toBe(true);
    expect(canCarryOver({ ...committed, periodStart: undefined }, policy, now)).toBe(true);
  });

  test('when the record moved, the detail is as old as the refresh age, or there is no policy, then it is read', () => {
    expect(canCarryOver({ ...committed, sameRecord: false }, policy, now)).toBe(false);
    expect(canCarryOver(committed, { ...policy, refreshMs: 6 * HOUR }, now)).toBe(false);
    expect(canCarryOver(committed, undefined, now)).toBe(false);
    expect(canCarryOver(undefined, policy, now)).toBe(false);
  });

  test('when the billing period rolled over since the detail was read, then it is read', () => {
    // Read in March (before the period began), or naming March: both a rollover.
    expect(canCarryOver({ ...committed, takenAt: new Date('2025-03-31T23:00:00Z') }, policy, now)).toBe(
      false,
    );
    expect(canCarryOver({ ...committed, periodStart: '2025-03-01T00:00:00+00:00' }, policy, now)).toBe(false);
  });
});
