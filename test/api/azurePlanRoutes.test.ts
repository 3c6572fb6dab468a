import {
  createSubscriptionAzureSubscriptionsHandler,
  createSubscriptionMetersHandler,
  createSubscriptionResourceGroupsHandler,
  createSubscriptionUsageSummaryHandler,
} from '../../src/api/handlers/azurePlanDetail';
import { createResourceGroupHistoryHandler } from '../../src/api/handlers/resourceGroupHistory';
import { createSubscriptionResourcesHandler } from '../../src/api/handlers/subscriptionResources';
import { azuriteBackend, memoryBackend, type Backend } from './support/backends';
import {
  apiSettings,
  AZURE_SUB_A,
  AZURE_SUB_B,
  clock,
  customerId,
  HOSTILE_METER,
  HOSTILE_URI,
  SNAPSHOT,
  subscriptionId,
} from './support/fixtures';
import { call, type ErrorAnswer } from './support/http';

// Customer 2 of the fixtures has a legacy subscription and an Azure plan side by side, the plan's
// detail stored (two Azure subscriptions, TESTRG1 in both, a hostile meter id and resource URI);
// the same answers over the real Table adapter on Azurite and over the in-memory stand-in.
const backends: Array<[string, () => Promise<Backend>]> = [
  ['Azurite', () => azuriteBackend()],
  ['in-memory', async () => memoryBackend()],
];

const c2 = customerId(2);
const legacy = { customerId: c2, subscriptionId: subscriptionId(2, 1) };
const plan = { customerId: c2, subscriptionId: subscriptionId(2, 2) };

describe.each(backends)('over the %s store', (_name, makeBackend) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await makeBackend();
  }, 60_000);
  const deps = () => ({ reader: backend.store, settings: apiSettings, clock });

  test('when a customer has a legacy subscription and an Azure plan, then each has its own summary and its own kind of resources', async () => {
    const summary = createSubscriptionUsageSummaryHandler(deps());
    expect((await call(summary, '/x', { params: plan })).json()).toEqual({
      snapshot: expect.objectContaining({ runId: SNAPSHOT.runId }),
      data: {
        subscriptionId: plan.subscriptionId,
        name: null,
        billingPeriod: { start: '2025-05-01T00:00:00.000Z', end: '2025-06-01T00:00:00.000Z' },
        totalCost: '5.00',
        currencyCode: 'EUR',
        currencyLocale: null,
        usdTotalCost: '5.43',
        lastModifiedDate: null,
      },
    });
    const legacySummary = (await call(summary, '/x', { params: legacy })).json<{ data: unknown }>().data;
    expect(legacySummary).toMatchObject({ totalCost: '-12.50', currencyLocale: 'fr-FR', usdTotalCost: null });

    const resources = createSubscriptionResourcesHandler(deps());
    const kinds = async (params: typeof plan) =>
      (await call(resources, '/x', { params }))
        .json<{ data: { resources: Array<{ kind: string; resourceId: string }> } }>()
        .data.resources.map((r) => r.kind);
    expect(await kinds(legacy)).toEqual(['legacy', 'legacy']);
    expect(await kinds(plan)).toEqual(['azurePlan', 'azurePlan', 'azurePlan', 'azurePlan']);
    const hostile = (await call(resources, '/x', { params: plan }))
      .json<{ data: { resources: Array<Record<string, unknown>> } }>()
      .data.resources.at(-1);
    expect(hostile).toMatchObject({
      resourceId: HOSTILE_URI,
      resourceUri: HOSTILE_URI,
      resourceGroup: 'rg.shared(1)',
      azureSubscriptionId: AZURE_SUB_B,
      totalCost: '0.499999999999999999999',
      usdTotalCost: '0.5',
    });
  });

  test('when the plan’s meters are read, then the hostile meter id is whole and the amounts exact; CSV keeps it as text', async () => {
    const meters = createSubscriptionMetersHandler(deps());
    const body = (await call(meters, '/x', { params: plan })).json<{
      data: { meters: Array<Record<string, unknown>> };
    }>();
    expect(body.data.meters.map((m) => [m.meterId, m.quantityUsed, m.totalCost])).toEqual([
      [HOSTILE_METER, '0.011290000000000000001', '0.000000000000000000001'],
      ['DZH318Z0BQ4X-0001-D2s v3/D2s v3 (1 Hour)', '744', '4.999999999999999999999'],
    ]);
    const csv = await call(meters, '/x?format=csv', { params: plan });
    expect(csv.headers.get('content-disposition')).toBe(
      `attachment; filename="meters-${plan.subscriptionId}.csv"`,
    );
    expect(csv.text.split('\r\n')[0]).toBe(
      'subscriptionId,meterId,meterName,category,subcategory,quantityUsed,unit,totalCost,currencyCode,currencyLocale,usdTotalCost,lastModifiedDate',
    );
    expect(csv.text).toContain(HOSTILE_METER);
    const none = await call(meters, '/x', { params: legacy });
    expect(none.json<{ data: { meters: unknown[] } }>().data.meters).toEqual([]);
  });

  test('when resource groups are read, then TESTRG1 is two groups (one per Azure subscription) summed exactly, any case', async () => {
    const res = await call(createSubscriptionResourceGroupsHandler(deps()), '/x', { params: plan });
    expect(res.json<{ data: { resourceGroups: unknown[] } }>().data.resourceGroups).toEqual([
      {
        azureSubscriptionId: AZURE_SUB_A,
        azureSubscriptionName: 'Microsoft Azure',
        resourceGroup: 'TESTRG1',
        resourceCount: 2,
        totalCost: '2.000000000000000000001',
        currencyCode: 'EUR',
        currencyLocale: null,
        usdTotalCost: '2.2',
      },
      {
        azureSubscriptionId: AZURE_SUB_B,
        azureSubscriptionName: 'Dev/Test',
        resourceGroup: 'TESTRG1',
        resourceCount: 1,
        totalCost: '2.5',
        currencyCode: 'EUR',
        currencyLocale: null,
        usdTotalCost: '2.73',
      },
      {
        azureSubscriptionId: AZURE_SUB_B,
        azureSubscriptionName: 'Dev/Test',
        resourceGroup: 'rg.shared(1)',
        resourceCount: 1,
        totalCost: '0.499999999999999999999',
        currencyCode: 'EUR',
        currencyLocale: null,
        usdTotalCost: '0.5',
      },
    ]);
  });

  test('when Azure subscriptions are read, then each with its exact cost, an idle one at 0 with no USD figure', async () => {
    const res = await call(createSubscriptionAzureSubscriptionsHandler(deps()), '/x', { params: plan });
    const rows = res.json<{ data: { azureSubscriptions: Array<Record<string, unknown>> } }>().data
      .azureSubscriptions;
    expect(
      rows.map((r) => [
        r.azureSubscriptionId,
        r.listed,
        r.resourceCount,
        r.resourceGroupCount,
        r.totalCost,
        r.usdTotalCost,
      ]),
    ).toEqual([
      [AZURE_SUB_A, true, 2, 1, '2.000000000000000000001', '2.2'],
      [AZURE_SUB_B, true, 2, 2, '2.999999999999999999999', '3.23'],
      ['cccccccc-0000-4000-8000-000000000003', true, 0, 0, '0', null],
    ]);
    expect(rows[2]).toMatchObject({ status: 'disabled', currencyCode: 'EUR' });
  });

  test('when a resource group’s history is read, then one point per Azure subscription holding it, narrowed on request', async () => {
    const history = createResourceGroupHistoryHandler(deps());
    const params = { ...plan, resourceGroup: 'TestRG1' };
    const all = await call(history, '/x', { params });
    expect(all.status).toBe(200);
    const points = all.json<{ data: Array<Record<string, unknown>> }>().data;
    expect(
      points.map((p) => [p.azureSubscriptionId, p.resourceGroup, p.totalCost, p.resourceCount]).sort(),
    ).toEqual([
      [AZURE_SUB_A, 'TESTRG1', '2.000000000000000000001', 2],
      [AZURE_SUB_B, 'TESTRG1', '2.5', 1],
    ]);
    const one = await call(history, `/x?azureSubscriptionId=${AZURE_SUB_B.toUpperCase()}`, { params });
    expect(one.json<{ data: Array<{ totalCost: string }> }>().data.map((p) => p.totalCost)).toEqual(['2.5']);
    const legacyGroup = await call(history, '/x', { params: { ...legacy, resourceGroup: 'TESTRG1' } });
    expect(legacyGroup.json<ErrorAnswer>().error.code).toBe('ResourceGroupNotFound');
  });

  test('when a plan was snapshotted before its detail was stored, then its summary is null and its lists empty, not an error', async () => {
    const older = { customerId: customerId(3), subscriptionId: subscriptionId(3, 2) };
    const summary = await call(createSubscriptionUsageSummaryHandler(deps()), '/x', { params: older });
    expect([summary.status, summary.json<{ data: unknown }>().data]).toEqual([200, null]);
    const groups = await call(createSubscriptionResourceGroupsHandler(deps()), '/x', { params: older });
    expect(groups.json<{ data: { resourceGroups: unknown[] } }>().data.resourceGroups).toEqual([]);
  });

  test('when the new routes get an unknown parameter, a bad id or an unknown subscription, then the typed 4xx', async () => {
    const meters = createSubscriptionMetersHandler(deps());
    expect((await call(meters, '/x?limit=5', { params: plan })).json<ErrorAnswer>().error.code).toBe(
      'InvalidQuery',
    );
    const summary = createSubscriptionUsageSummaryHandler(deps());
    expect((await call(summary, '/x?format=csv', { params: plan })).json<ErrorAnswer>().error.code).toBe(
      'InvalidQuery',
    );
    expect(
      (await call(meters, '/x', { params: { ...plan, subscriptionId: 'nope' } })).json<ErrorAnswer>().error
        .code,
    ).toBe('InvalidSubscriptionId');
    expect(
      (
        await call(meters, '/x', { params: { ...plan, subscriptionId: subscriptionId(2, 9) } })
      ).json<ErrorAnswer>().error.code,
    ).toBe('SubscriptionNotFound');
    const etag = (await call(meters, '/x', { params: plan })).headers.get('etag') as string;
    expect((await call(meters, '/x', { params: plan, headers: { 'If-None-Match': etag } })).status).toBe(304);
  });
});
