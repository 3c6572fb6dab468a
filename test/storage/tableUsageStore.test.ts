import { odata } from '@azure/data-tables';
import { errorCode } from '../../src/domain/errors';
import { customerPartition } from '../../src/storage/keys';
import type { CustomerListEntry } from '../../src/domain/snapshotWriter';
import {
  customerRecord,
  customerSummary,
  guid,
  newStore,
  partnerSummary,
  resourceRecord,
  subscriptionRecord,
} from './factories';

type Store = Awaited<ReturnType<typeof newStore>>;
let store: Store;
beforeAll(async () => {
  store = await newStore();
});

const entry = (n: number, over: Partial<CustomerListEntry> = {}): CustomerListEntry => ({
  record: customerRecord(n),
  takenAt: new Date('2025-03-15T12:00:00Z'),
  outcome: 'written',
  subscriptionsWritten: 1,
  subscriptionsFailed: 0,
  resourcesWritten: 2,
  ...over,
});

async function writeCustomer(n: number, runId: string, takenAt: Date, subs = [subscriptionRecord(n)]) {
  for (const s of subs) {
    await store.writer.writeSubscription({
      runId,
      customerId: guid(n),
      takenAt,
      subscription: s,
      hasResourceBreakdown: s.offerId === 'MS-AZR-0145P',
      resources: s.offerId === 'MS-AZR-0145P' ? [resourceRecord(1), resourceRecord(2)] : [],
    });
  }
  await store.writer.commitCustomer({
    runId,
    customerId: guid(n),
    takenAt,
    record: customerRecord(n),
    summary: customerSummary(n),
    subscriptions: subs,
  });
}

test('when a customer is committed, then its view reads back field for field with exact decimal strings', async () => {
  const takenAt = new Date('2025-03-15T12:00:00Z');
  await writeCustomer(1, 'run-a', takenAt);
  const found = await store.getCustomer(guid(1));
  expect(found).toEqual({
    status: 'found',
    value: {
      snapshot: {
        runId: 'run-a',
        takenAt: takenAt.toISOString(),
        billingStartDate: '2025-03-01T00:00:00+00:00',
        billingEndDate: '2025-04-01T00:00:00+00:00',
      },
      summary: customerSummary(1),
      subscriptions: [subscriptionRecord(1)],
    },
  });
  const resources = await store.getSubscriptionResources(guid(1), subscriptionRecord(1).subscriptionId);
  expect(resources.status).toBe('found');
  if (resources.status === 'found') {
    expect(resources.value.hasResourceBreakdown).toBe(true);
    expect(resources.value.resources).toEqual([resourceRecord(1), resourceRecord(2)]);
    expect(resources.value.resources[0].totalCost).toBe('120.5682999999995904716');
  }
});

test('when ids arrive in upper case, then lookups in any case find the same customer and subscription', async () => {
  const sub = subscriptionRecord(5, { subscriptionId: guid(5, 7).toUpperCase() });
  await writeCustomer(5, 'run-a', new Date(), [sub]);
  expect((await store.getCustomer(guid(5).toUpperCase())).status).toBe('found');
  expect((await store.getSubscriptionResources(guid(5), guid(5, 7))).status).toBe('found');
});

test('when an Azure-plan subscription is written, then it is found with hasResourceBreakdown false and no resources', async () => {
  const plan = subscriptionRecord(2, { offerId: 'DZH318Z0BPS6:0001:DZH318Z0BML6', currencyCode: 'GBP' });
  await writeCustomer(2, 'run-a', new Date(), [plan]);
  const view = await store.getSubscriptionResources(guid(2), plan.subscriptionId);
  expect(view).toMatchObject({ status: 'found', value: { hasResourceBreakdown: false, resources: [] } });
});

test('when a customer is unknown, then unknown; when it only failed so far, then notSnapshotted', async () => {
  expect((await store.getCustomer(guid(999))).status).toBe('unknown');
  await store.writer.markCustomerKnown(guid(998), 'run-a', new Date());
  expect((await store.getCustomer(guid(998))).status).toBe('notSnapshotted');
  expect((await store.getSubscriptionResources(guid(998), guid(1))).status).toBe('notSnapshotted');
  expect((await store.customerHistory(guid(998), { limit: 10 })).status).toBe('notSnapshotted');
  expect((await store.customerHistory(guid(999), { limit: 10 })).status).toBe('unknown');
});

test('when a customer that already has a view fails later, then marking it known leaves the view as it was', async () => {
  await writeCustomer(3, 'run-a', new Date());
  await store.writer.markCustomerKnown(guid(3), 'run-b', new Date());
  expect(await store.getCustomer(guid(3))).toMatchObject({
    status: 'found',
    value: { snapshot: { runId: 'run-a' } },
  });
});

test('when a customer is snapshotted three times, then its history is newest first, ranged by time, and paged', async () => {
  const times = ['2025-01-01T00:00:00Z', '2025-02-01T00:00:00Z', '2025-03-01T00:00:00Z'].map(
    (t) => new Date(t),
  );
  for (const [i, t] of times.entries()) await writeCustomer(4, `run-${i}`, t);
  const all = await store.customerHistory(guid(4), { limit: 10 });
  expect(all.status === 'found' && all.value.items.map((p) => p.runId)).toEqual(['run-2', 'run-1', 'run-0']);
  const ranged = await store.customerHistory(guid(4), {
    from: new Date('2025-01-15T00:00:00Z'),
    to: new Date('2025-02-01T00:00:00Z'),
    limit: 10,
  });
  expect(ranged.status === 'found' && ranged.value.items.map((p) => p.runId)).toEqual(['run-1']);
  const first = await store.customerHistory(guid(4), { limit: 2 });
  if (first.status !== 'found') throw new Error('expected found');
  expect(first.value.items).toHaveLength(2);
  const second = await store.customerHistory(guid(4), {
    limit: 2,
    continuationToken: first.value.continuationToken,
  });
  expect(second.status === 'found' && second.value.items.map((p) => p.runId)).toEqual(['run-0']);
  const sub = await store.subscriptionHistory(guid(4), subscriptionRecord(4).subscriptionId, { limit: 10 });
  expect(sub.status === 'found' && sub.value.items.map((p) => [p.runId, p.totalCost])).toEqual([
    ['run-2', '33.280000000000001044'],
    ['run-1', '33.280000000000001044'],
    ['run-0', '33.280000000000001044'],
  ]);
});

test("when a run publishes, then the partner summary and that run's customers list become visible together", async () => {
  const local = await newStore();
  expect(await local.getPartnerSummary()).toBeUndefined();
  expect(await local.listCustomers({ filter: {}, limit: 10 })).toBeUndefined();
  await local.writer.recordCustomers('run-x', [entry(1), entry(2)]);
  expect(await local.listCustomers({ filter: {}, limit: 10 })).toBeUndefined();
  await local.writer.publishPartner('run-x', new Date('2025-03-15T12:00:00Z'), partnerSummary());
  const summary = await local.getPartnerSummary();
  expect(summary?.summary).toEqual(partnerSummary());
  const list = await local.listCustomers({ filter: {}, limit: 10 });
  expect(list?.snapshot.runId).toBe('run-x');
  expect(list?.page.items).toEqual([customerRecord(1), customerRecord(2)]);
});

test('when the customers list is filtered by overBudget, isUpgraded and currency, then only matching customers come back, paged', async () => {
  const local = await newStore();
  await local.writer.recordCustomers('run-f', [
    entry(1, { record: customerRecord(1, { totalCost: '100.0000000000000000001', budget: '100' }) }),
    entry(2, {
      record: customerRecord(2, {
        totalCost: '99.99',
        budget: '100',
        currencyLocale: undefined,
        currencyCode: 'gbp',
      }),
    }),
    entry(3, { record: customerRecord(3, { budget: undefined, totalCost: '5000' }) }),
    entry(4, { record: customerRecord(4, { currencyLocale: "it-IT' or 'a' eq 'a" }) }),
  ]);
  await local.writer.publishPartner('run-f', new Date(), partnerSummary());
  const ids = async (filter: object, limit = 10) =>
    (await local.listCustomers({ filter, limit }))?.page.items.map((c) => c.customerId);
  expect(await ids({ overBudget: true })).toEqual([guid(1)]);
  expect(await ids({ isUpgraded: true })).toEqual([guid(2), guid(4)]);
  expect(await ids({ currency: 'GBP' })).toEqual([guid(2)]);
  expect(await ids({ currency: 'FR-fr' })).toEqual([guid(1), guid(3)]);
  expect(await ids({ currency: "x' or 'a' eq 'a" })).toEqual([]);
  const first = await local.listCustomers({ filter: {}, limit: 3 });
  expect(first?.page.items).toHaveLength(3);
  const next = await local.listCustomers({
    filter: {},
    limit: 3,
    continuationToken: first?.page.continuationToken,
  });
  expect(next?.page.items.map((c) => c.customerId)).toEqual([guid(4)]);
  expect(next?.page.continuationToken).toBeUndefined();
});

test('when a client pages the list while a newer run publishes, then its later pages stay on the run it started with', async () => {
  const local = await newStore();
  await local.writer.recordCustomers('run-1', [entry(1), entry(2)]);
  await local.writer.publishPartner('run-1', new Date(), partnerSummary());
  const first = await local.listCustomers({ filter: {}, limit: 1 });
  await local.writer.recordCustomers('run-2', [entry(7), entry(8), entry(9)]);
  await local.writer.publishPartner('run-2', new Date(), partnerSummary());
  const next = await local.listCustomers({
    filter: {},
    limit: 5,
    continuationToken: first?.page.continuationToken,
  });
  expect(next?.snapshot.runId).toBe('run-1');
  expect(next?.page.items.map((c) => c.customerId)).toEqual([guid(2)]);
});

test('when a continuation token was not issued by the store, then InvalidContinuationToken', async () => {
  await expect(
    store.listCustomers({ filter: {}, limit: 5, continuationToken: 'not-a-token' }),
  ).rejects.toMatchObject({ code: 'InvalidContinuationToken' });
});

test('when a subscription has 5,000 resources (over 1 MiB), then its view is split into parts that flip with the customer in one transaction and read back whole', async () => {
  const sub = subscriptionRecord(6);
  const resources = Array.from({ length: 5000 }, (_, i) => resourceRecord(i));
  const before = store.metrics.transactions;
  await store.writer.writeSubscription({
    runId: 'run-big',
    customerId: guid(6),
    takenAt: new Date(),
    subscription: sub,
    hasResourceBreakdown: true,
    resources,
  });
  await store.writer.commitCustomer({
    runId: 'run-big',
    customerId: guid(6),
    takenAt: new Date(),
    record: customerRecord(6),
    summary: customerSummary(6),
    subscriptions: [sub],
  });
  expect(store.metrics.transactions - before).toBe(1);
  let parts = 0;
  const pk = customerPartition(guid(6));
  for await (const _row of store.tables.table('Customers').listEntities({
    queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${'x_'} and RowKey lt ${'x_~'}` },
  }))
    parts++;
  expect(parts).toBeGreaterThan(1);
  const view = await store.getSubscriptionResources(guid(6), sub.subscriptionId);
  expect(view.status === 'found' && view.value.resources).toEqual(resources);
});

test('when a subscription view is larger than one transaction (4 MiB), then it takes several, and nothing of the customer shows until its commit', async () => {
  const customerId = guid(7);
  const sub = subscriptionRecord(7);
  await writeCustomer(7, 'run-small', new Date('2025-03-15T12:00:00Z'));
  const previous = await store.getSubscriptionResources(customerId, sub.subscriptionId);
  const resources = Array.from({ length: 20_000 }, (_, i) => resourceRecord(i, { name: 'n'.repeat(200) }));
  const before = store.metrics.transactions;
  await store.writer.writeSubscription({
    runId: 'run-huge',
    customerId,
    takenAt: new Date(),
    subscription: sub,
    hasResourceBreakdown: true,
    resources,
  });
  expect(store.metrics.transactions - before).toBeGreaterThan(0);
  expect(await store.getSubscriptionResources(customerId, sub.subscriptionId)).toEqual(previous);
  await store.writer.commitCustomer({
    runId: 'run-huge',
    customerId,
    takenAt: new Date(),
    record: customerRecord(7),
    summary: customerSummary(7),
    subscriptions: [sub],
  });
  expect(store.metrics.transactions - before).toBeGreaterThan(2);
  const view = await store.getSubscriptionResources(customerId, sub.subscriptionId);
  expect(view.status === 'found' && view.value.snapshot.runId).toBe('run-huge');
  expect(view.status === 'found' && view.value.resources).toEqual(resources);
});

test('when a customer view is larger than one transaction can carry (4 MiB), then EntityTooLarge and nothing is written', async () => {
  const error = await store.writer
    .commitCustomer({
      runId: 'run-huge',
      customerId: guid(17),
      takenAt: new Date(),
      record: customerRecord(17),
      summary: customerSummary(17, { name: 'n'.repeat(5_000_000) }),
      subscriptions: [],
    })
    .catch((e: unknown) => e);
  expect(errorCode(error)).toBe('EntityTooLarge');
  expect((await store.getCustomer(guid(17))).status).toBe('unknown');
});

test('when a customer has 150 subscriptions, then its history rows take two transactions and the view flips in the last', async () => {
  const subs = Array.from({ length: 150 }, (_, i) =>
    subscriptionRecord(1000 + i, { offerId: 'DZH318Z0BPS6:0001:X' }),
  );
  const before = store.metrics.transactions;
  await store.writer.commitCustomer({
    runId: 'run-many',
    customerId: guid(8),
    takenAt: new Date(),
    record: customerRecord(8),
    summary: customerSummary(8),
    subscriptions: subs,
  });
  expect(store.metrics.transactions - before).toBe(2);
  const view = await store.getCustomer(guid(8));
  expect(view.status === 'found' && view.value.subscriptions).toHaveLength(150);
});

test('when a customer id contains "/" and "#", then it is stored under an encoded key and found again', async () => {
  const odd = 'odd/customer#1';
  await store.writer.commitCustomer({
    runId: 'run-odd',
    customerId: odd,
    takenAt: new Date(),
    record: customerRecord(9, { customerId: odd }),
    subscriptions: [],
  });
  expect((await store.getCustomer(odd)).status).toBe('found');
  const row = await store.tables.table('Customers').getEntity(customerPartition(odd), 'view');
  expect(row.partitionKey).toBe('c_odd%2fcustomer%231');
});

test('when a run list row is written, then run totals sum written and failed customers exactly', async () => {
  await store.writer.recordCustomers('run-t', [
    entry(1),
    entry(2, {
      outcome: 'failed',
      subscriptionsWritten: 0,
      resourcesWritten: 0,
      subscriptionsFailed: 3,
      failure: { code: 'PartnerCenterHttp', status: 503, message: 'boom' },
    }),
  ]);
  const progress = await store.writer.runProgress('run-t');
  expect(progress.totals).toEqual({
    customersWritten: 1,
    customersFetched: 1,
    customersCarriedOver: 0,
    customersFailed: 1,
    subscriptionsWritten: 1,
    subscriptionsFailed: 3,
    resourcesWritten: 2,
  });
  expect([...progress.finished].sort()).toEqual([guid(1), guid(2)]);
});

test('when a newer run publishes, then a first page shows the previous complete run until the current run is looked up again', async () => {
  let clock = new Date('2025-03-15T12:00:00Z').getTime();
  const local = await newStore({ now: () => new Date(clock), currentRunCacheMs: 10_000 });
  await local.writer.recordCustomers('run-1', [entry(1), entry(2)]);
  await local.writer.publishPartner('run-1', new Date(clock), partnerSummary());
  expect((await local.listCustomers({ filter: {}, limit: 10 }))?.snapshot.runId).toBe('run-1');

  await local.writer.recordCustomers('run-2', [entry(7), entry(8), entry(9)]);
  await local.writer.publishPartner('run-2', new Date(clock), partnerSummary());
  const before = local.metrics.roundTrips;
  const remembered = await local.listCustomers({ filter: {}, limit: 10 });
  expect(local.metrics.roundTrips - before).toBe(1);
  expect(remembered?.snapshot.runId).toBe('run-1');
  expect(remembered?.page.items.map((c) => c.customerId)).toEqual([guid(1), guid(2)]);

  clock += 10_001;
  const fresh = await local.listCustomers({ filter: {}, limit: 10 });
  expect(fresh?.snapshot.runId).toBe('run-2');
  expect(fresh?.page.items.map((c) => c.customerId)).toEqual([guid(7), guid(8), guid(9)]);
});

test('when a known customer never had the subscription, then its history is unknown; an empty range of one it had is found and empty', async () => {
  await writeCustomer(5, 'run-a', new Date('2025-01-10T00:00:00Z'));
  const had = subscriptionRecord(5).subscriptionId;
  const never = guid(999, 7);

  expect(await store.subscriptionHistory(guid(5), never, { limit: 10 })).toEqual({ status: 'unknown' });
  expect((await store.getSubscriptionResources(guid(5), never)).status).toBe('unknown');
  // And a customer the cache has never seen is told apart from both.
  expect(await store.subscriptionHistory(guid(997), had, { limit: 10 })).toEqual({
    status: 'customerUnknown',
  });
  expect((await store.getSubscriptionResources(guid(997), had)).status).toBe('customerUnknown');
  expect((await store.customerHistory(guid(997), { limit: 10 })).status).toBe('unknown');
  expect(
    await store.subscriptionHistory(guid(5), had, { from: new Date('2030-01-01T00:00:00Z'), limit: 10 }),
  ).toEqual({ status: 'found', value: { items: [], continuationToken: undefined } });
});
