import { memoryLogger } from '../../src/observability/logger';
import { runRetention } from '../../src/snapshot/retention';
import {
  customerRecord,
  customerSummary,
  guid,
  newStore,
  partnerSummary,
  subscriptionRecord,
} from '../storage/factories';

test('when retention runs, then history of runs older than the setting is deleted in batches and the latest views stay', async () => {
  let now = new Date('2024-01-01T00:00:00Z');
  const store = await newStore({ now: () => now });
  const logger = memoryLogger();
  const snapshot = async (customers: number[]) => {
    const run = await store.requestRun('timer');
    const lease = await store.runs.acquireLease(run.runId, 'h', 60_000);
    for (const n of customers)
      await store.writer.commitCustomer({
        runId: run.runId,
        customerId: guid(n),
        takenAt: now,
        record: customerRecord(n),
        summary: customerSummary(n),
        subscriptions: [subscriptionRecord(n)],
      });
    await store.writer.recordCustomers(
      run.runId,
      [1, 2, 3].map((n) => ({
        record: customerRecord(n),
        takenAt: now,
        outcome: customers.includes(n) ? ('written' as const) : ('failed' as const),
        subscriptionsWritten: 1,
        subscriptionsFailed: 0,
        resourcesWritten: 0,
      })),
    );
    await store.writer.publishPartner(run.runId, now, partnerSummary());
    await store.runs.finishRun(lease!, { state: 'succeeded' });
    return run.runId;
  };
  const old = await snapshot([1, 2, 3]);
  now = new Date('2025-03-01T00:00:00Z');
  const recent = await snapshot([1, 3]); // customer 2 failed: its view is still the old run's
  now = new Date('2025-03-15T00:00:00Z');

  const result = await runRetention({ store, logger, settings: { days: 400 }, now: () => now });

  expect(result).toEqual({ runsDeleted: 1, historyRowsDeleted: 1 + 3 * 2, listRowsDeleted: 3 });
  const history = await store.customerHistory(guid(1), { limit: 10 });
  expect(history.status === 'found' && history.value.items.map((p) => p.runId)).toEqual([recent]);
  const kept = await store.getCustomer(guid(2));
  expect(kept.status === 'found' && kept.value.snapshot.runId).toBe(old);
  expect((await store.listRuns(10)).map((r) => r.runId)).toEqual([recent]);
  expect((await store.listCustomers({ filter: {}, limit: 10 }))?.page.items).toHaveLength(3);
  expect(logger.lines.some((l) => l.includes('event=RetentionCompleted'))).toBe(true);

  const again = await runRetention({ store, logger, settings: { days: 400 }, now: () => now });
  expect(again.runsDeleted).toBe(0);
});

test('when the only run is older than the setting, then it is kept because it is the latest view', async () => {
  let now = new Date('2023-01-01T00:00:00Z');
  const store = await newStore({ now: () => now });
  const run = await store.requestRun('timer');
  const lease = await store.runs.acquireLease(run.runId, 'h', 60_000);
  await store.writer.publishPartner(run.runId, now, partnerSummary());
  await store.runs.finishRun(lease!, { state: 'succeeded' });
  now = new Date('2025-01-01T00:00:00Z');
  const result = await runRetention({
    store,
    logger: memoryLogger(),
    settings: { days: 30 },
    now: () => now,
  });
  expect(result.runsDeleted).toBe(0);
  expect((await store.getPartnerSummary())?.snapshot.runId).toBe(run.runId);
});

test('when retention runs, then an Azure plan’s resource-group history of the expired run goes too, and the recent run’s stays', async () => {
  let now = new Date('2024-01-01T00:00:00Z');
  const store = await newStore({ now: () => now });
  const plan = subscriptionRecord(1, { offerId: 'DZH318Z0BPS6:0001:DZH318Z0BPS6', currencyCode: 'EUR' });
  const group = (azureSub: string, rg: string, totalCost: string) => ({
    resourceUri: `/subscriptions/${azureSub}/resourceGroups/${rg}/providers/Microsoft.Web/sites/a#b?c`,
    entitlementId: azureSub,
    resourceGroupName: rg,
    totalCost,
    currencyCode: 'EUR',
  });
  const snapshot = async (cost: string) => {
    const run = await store.requestRun('timer');
    const lease = await store.runs.acquireLease(run.runId, 'h', 60_000);
    const base = { runId: run.runId, customerId: guid(1), takenAt: now };
    await store.writer.writeSubscription({
      ...base,
      subscription: plan,
      hasResourceBreakdown: false,
      resources: [],
      detail: {
        meters: [],
        azureSubscriptions: [],
        resources: [
          group(guid(8), 'rg-prod', cost),
          group(guid(9), 'rg-prod', '1'),
          group(guid(9), 'rg.dev', '2'),
        ],
      },
    });
    await store.writer.commitCustomer({ ...base, record: customerRecord(1), subscriptions: [plan] });
    await store.writer.recordCustomers(run.runId, [
      {
        record: customerRecord(1),
        takenAt: now,
        outcome: 'written',
        subscriptionsWritten: 1,
        subscriptionsFailed: 0,
        resourcesWritten: 3,
      },
    ]);
    await store.writer.publishPartner(run.runId, now, partnerSummary());
    await store.runs.finishRun(lease!, { state: 'succeeded' });
    return run.runId;
  };
  await snapshot('5');
  now = new Date('2025-03-01T00:00:00Z');
  const recent = await snapshot('7.25');
  now = new Date('2025-03-15T00:00:00Z');
  const read = async () => {
    const points = await store.resourceGroupHistory(guid(1), plan.subscriptionId, 'RG-PROD', { limit: 10 });
    return points.status === 'found'
      ? points.value.items.map((p) => [p.runId, p.azureSubscriptionId, p.totalCost])
      : [];
  };
  expect(await read()).toHaveLength(4);

  const result = await runRetention({
    store,
    logger: memoryLogger(),
    settings: { days: 400 },
    now: () => now,
  });

  // The old run's partner point, customer point, plan point and three group points.
  expect(result).toMatchObject({ runsDeleted: 1, historyRowsDeleted: 1 + 1 + 1 + 3 });
  expect((await read()).sort()).toEqual([
    [recent, guid(8), '7.25'],
    [recent, guid(9), '1'],
  ]);
});
