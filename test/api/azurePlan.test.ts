import {
  createSubscriptionAzureSubscriptionsHandler,
  createSubscriptionMetersHandler,
  createSubscriptionResourceGroupsHandler,
  createSubscriptionUsageSummaryHandler,
} from '../../src/api/handlers/azurePlanDetail';
import { createResourceGroupHistoryHandler } from '../../src/api/handlers/resourceGroupHistory';
import { createSubscriptionHistoryHandler } from '../../src/api/handlers/subscriptionHistory';
import { createSubscriptionResourcesHandler } from '../../src/api/handlers/subscriptionResources';
import type {
  AzureEntitlement,
  MeterUsageRecord,
  ResourceUsageRecord,
  SubscriptionUsageSummary,
} from '../../src/domain/azurePlan';
import {
  hasResourceBreakdown,
  type AzureResourceMonthlyUsageRecord,
  type SubscriptionMonthlyUsageRecord,
} from '../../src/domain/usage';
import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { collect, finishedRun, startSnapshotHarness, type SnapshotHarness } from '../snapshot/support';
import { apiSettings } from './support/fixtures';
import { call, type ErrorAnswer, type Handler } from './support/http';
import { expectConforms } from './support/openapiValidator';

// Every Azure-plan route over the real snapshot: the sandbox over HTTP, the real client, a run into
// Table Storage on Azurite, then the handlers reading it. Expected figures come from Partner Center
// (the sandbox) as the client reads it, summed here with plain BigInt arithmetic, not the app's.

const NOW = new Date('2025-03-15T12:00:00Z');
const LATER = new Date('2025-03-18T12:00:00Z');

/** Exact decimal text → integer units of 10^-40 (the sandbox sends at most 28 fraction digits). */
function units(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a plain decimal: ${text}`);
  const fraction = (m[3] ?? '').padEnd(40, '0');
  if (fraction.length > 40) throw new Error(`too many digits: ${text}`);
  const value = BigInt(m[2] + fraction);
  return m[1] === '-' ? -value : value;
}
const total = (texts: string[]) => texts.reduce((sum, t) => sum + units(t), 0n);

interface Plan {
  customerId: string;
  plan: SubscriptionMonthlyUsageRecord;
  summary: SubscriptionUsageSummary | undefined;
  meters: MeterUsageRecord[];
  resources: ResourceUsageRecord[];
  entitlements: AzureEntitlement[];
}

let h: SnapshotHarness;
let plans: Plan[];
/** A plan whose resources span several Azure subscriptions and resource groups, with hostile keys. */
let wide: Plan;
let legacy: {
  customerId: string;
  subscription: SubscriptionMonthlyUsageRecord;
  resources: AzureResourceMonthlyUsageRecord[];
};
let firstRunId: string;

const handlers = (now: Date = NOW) => {
  const deps = { reader: h.store, settings: apiSettings, clock: () => now };
  return {
    summary: createSubscriptionUsageSummaryHandler(deps),
    meters: createSubscriptionMetersHandler(deps),
    resources: createSubscriptionResourcesHandler(deps),
    groups: createSubscriptionResourceGroupsHandler(deps),
    azureSubscriptions: createSubscriptionAzureSubscriptionsHandler(deps),
    groupHistory: createResourceGroupHistoryHandler(deps),
    subscriptionHistory: createSubscriptionHistoryHandler(deps),
  };
};

const SUB = '/v1/customers/{customerId}/subscriptions/{subscriptionId}';

async function get<T>(handler: Handler, route: string, params: Record<string, string>, query = '') {
  const res = await call(handler, `/api/x${query}`, { params });
  expect({ route, status: res.status, body: res.status === 200 ? '' : res.text }).toEqual({
    route,
    status: 200,
    body: '',
  });
  if (!query.includes('format=csv')) expectConforms(`${SUB}${route}`, 'get', res);
  return res.json<{ snapshot: { runId: string }; data: T }>();
}

beforeAll(async () => {
  h = await startSnapshotHarness({ customers: 40 });
  firstRunId = finishedRun(await startScheduledRun(h.deps())).runId;
  plans = [];
  for await (const customer of h.client.listCustomerUsageRecords()) {
    for (const s of await collect(h.client.listSubscriptionUsageRecords(customer.customerId))) {
      if (hasResourceBreakdown(s)) {
        legacy ??= {
          customerId: customer.customerId,
          subscription: s,
          resources: await collect(h.client.listResourceUsageRecords(customer.customerId, s.subscriptionId)),
        };
        continue;
      }
      const id = s.subscriptionId;
      plans.push({
        customerId: customer.customerId,
        plan: s,
        summary: await h.client.getSubscriptionUsageSummary(customer.customerId, id),
        meters: await collect(h.client.listMeterUsageRecords(customer.customerId, id)),
        resources: await collect(h.client.listPlanResourceUsageRecords(customer.customerId, id)),
        entitlements: await collect(h.client.listAzureEntitlements(customer.customerId, id)),
      });
    }
  }
  const spread = (p: Plan) => ({
    azureSubscriptions: new Set(p.resources.map((r) => r.entitlementId)).size,
    groups: new Set(p.resources.map((r) => `${r.entitlementId}/${r.resourceGroupName?.toLowerCase()}`)).size,
    // eslint-disable-next-line no-control-regex
    hostile: p.resources.some((r) => r.resourceUri.length > 512 || /[#?\\\u0000-\u001f]/.test(r.resourceUri)),
  });
  wide = plans
    .filter((p) => {
      const s = spread(p);
      return s.azureSubscriptions >= 2 && s.groups >= 3 && s.hostile;
    })
    .sort((a, b) => b.resources.length - a.resources.length)[0];
  if (!wide || !legacy)
    throw new Error('the sandbox tenant has no wide Azure plan or no legacy subscription');
}, 180_000);
afterAll(() => h.close());

describe('an Azure plan across several Azure subscriptions and resource groups', () => {
  const params = () => ({ customerId: wide.customerId, subscriptionId: wide.plan.subscriptionId });

  test('when its usage summary is read, then it is Partner Center’s, exact, and agrees with the plan’s record', async () => {
    const body = await get<Record<string, unknown>>(handlers().summary, '/usage-summary', params());
    const summary = wide.summary as SubscriptionUsageSummary;
    expect(body.data).toEqual({
      subscriptionId: summary.subscriptionId,
      name: summary.name ?? null,
      billingPeriod: {
        start: new Date(summary.billingStartDate).toISOString(),
        end: new Date(summary.billingEndDate).toISOString(),
      },
      totalCost: summary.totalCost,
      currencyCode: summary.currencyCode ?? null,
      currencyLocale: null,
      usdTotalCost: summary.usdTotalCost ?? null,
      lastModifiedDate: summary.lastModifiedDate ? new Date(summary.lastModifiedDate).toISOString() : null,
    });
    expect(units(String(body.data.totalCost))).toBe(units(wide.plan.totalCost));
  });

  test('when its meters are read, then every meter id is kept whole and they sum to the plan’s total exactly', async () => {
    const body = await get<{ meters: Array<Record<string, unknown>> }>(
      handlers().meters,
      '/meters',
      params(),
    );
    expect(body.data.meters.map((m) => [m.meterId, m.quantityUsed, m.totalCost, m.usdTotalCost])).toEqual(
      wide.meters.map((m) => [m.meterId, m.quantityUsed, m.totalCost, m.usdTotalCost ?? null]),
    );
    expect(body.data.meters.some((m) => String(m.meterId).includes('/'))).toBe(true);
    expect(total(body.data.meters.map((m) => String(m.totalCost)))).toBe(units(wide.plan.totalCost));
  });

  test('when its resources are read, then kind azurePlan, the full URI, its Azure subscription and group, summing to the total', async () => {
    const body = await get<{ hasResourceBreakdown: boolean; resources: Array<Record<string, unknown>> }>(
      handlers().resources,
      '/resources',
      params(),
    );
    expect(body.data.hasResourceBreakdown).toBe(true);
    expect(body.data.resources).toEqual(
      wide.resources.map((r) => ({
        resourceId: r.resourceUri,
        name: r.name ?? null,
        category: null,
        subcategory: null,
        quantityUsed: null,
        unit: null,
        totalCost: r.totalCost,
        currencyCode: r.currencyCode ?? null,
        currencyLocale: null,
        kind: 'azurePlan',
        resourceUri: r.resourceUri,
        resourceType: r.resourceType ?? null,
        azureSubscriptionId: r.entitlementId ?? null,
        azureSubscriptionName: r.entitlementName ?? null,
        resourceGroup: r.resourceGroupName ?? null,
        usdTotalCost: r.usdTotalCost ?? null,
        lastModifiedDate: r.lastModifiedDate ? new Date(r.lastModifiedDate).toISOString() : null,
      })),
    );
    expect(body.data.resources.some((r) => String(r.resourceUri).length > 1024)).toBe(true);
    expect(total(body.data.resources.map((r) => String(r.totalCost)))).toBe(units(wide.plan.totalCost));
    expect(total(body.data.resources.map((r) => String(r.usdTotalCost)))).toBe(
      units(wide.plan.usdTotalCost as string),
    );
  });

  test('when its resource groups are read, then one per Azure subscription and group, each summed exactly', async () => {
    const body = await get<{ resourceGroups: Array<Record<string, unknown>> }>(
      handlers().groups,
      '/resource-groups',
      params(),
    );
    const expected = new Map<string, { cost: bigint; usd: bigint; count: number }>();
    for (const r of wide.resources) {
      const key = `${r.entitlementId}/${r.resourceGroupName?.toLowerCase()}`;
      const group = expected.get(key) ?? { cost: 0n, usd: 0n, count: 0 };
      group.cost += units(r.totalCost);
      group.usd += units(r.usdTotalCost as string);
      group.count++;
      expected.set(key, group);
    }
    const served = body.data.resourceGroups;
    expect(served).toHaveLength(expected.size);
    for (const g of served) {
      const want = expected.get(`${g.azureSubscriptionId}/${String(g.resourceGroup).toLowerCase()}`);
      expect({
        cost: units(String(g.totalCost)),
        usd: units(String(g.usdTotalCost)),
        count: g.resourceCount,
      }).toEqual({ cost: want?.cost, usd: want?.usd, count: want?.count });
      expect(g.currencyCode).toBe(wide.plan.currencyCode);
    }
    expect(new Set(served.map((g) => g.azureSubscriptionId)).size).toBeGreaterThanOrEqual(2);
    expect(total(served.map((g) => String(g.totalCost)))).toBe(units(wide.plan.totalCost));
  });

  test('when its Azure subscriptions are read, then each listed one with its resources’ exact cost', async () => {
    const body = await get<{ azureSubscriptions: Array<Record<string, unknown>> }>(
      handlers().azureSubscriptions,
      '/azure-subscriptions',
      params(),
    );
    expect(body.data.azureSubscriptions).toEqual(
      wide.entitlements.map((e) => {
        const mine = wide.resources.filter((r) => r.entitlementId === e.id);
        return {
          azureSubscriptionId: e.id,
          friendlyName: e.friendlyName ?? null,
          status: e.status ?? null,
          listed: true,
          resourceCount: mine.length,
          resourceGroupCount: new Set(mine.map((r) => r.resourceGroupName?.toLowerCase())).size,
          totalCost: expect.any(String),
          currencyCode: wide.plan.currencyCode ?? null,
          currencyLocale: null,
          usdTotalCost: mine.length === 0 ? null : expect.any(String),
        };
      }),
    );
    for (const served of body.data.azureSubscriptions) {
      const mine = wide.resources.filter((r) => r.entitlementId === served.azureSubscriptionId);
      expect(units(String(served.totalCost))).toBe(total(mine.map((r) => r.totalCost)));
    }
  });

  test('when resource groups and resources are asked as CSV, then one row each with the hostile URIs intact', async () => {
    const groups = await call(handlers().groups, '/api/x?format=csv', { params: params() });
    expect(groups.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = groups.text.split('\r\n');
    expect(lines[0]).toBe(
      'subscriptionId,azureSubscriptionId,azureSubscriptionName,resourceGroup,resourceCount,totalCost,currencyCode,currencyLocale,usdTotalCost',
    );
    const json = await get<{ resourceGroups: unknown[] }>(handlers().groups, '/resource-groups', params());
    expect(lines).toHaveLength(json.data.resourceGroups.length + 2);
    const resources = await call(handlers().resources, '/api/x?format=csv', { params: params() });
    const hostile = wide.resources.find((r) => r.resourceUri.length > 1024) as ResourceUsageRecord;
    // Quoted when it holds a quote, comma or line end; otherwise as is, and always whole.
    expect(resources.text).toContain(hostile.resourceUri);
  });
});

describe('a legacy subscription beside the Azure plans', () => {
  test('when its resources and summary are read, then kind legacy with the legacy fields, and no meters', async () => {
    const params = { customerId: legacy.customerId, subscriptionId: legacy.subscription.subscriptionId };
    const body = await get<{ resources: Array<Record<string, unknown>> }>(
      handlers().resources,
      '/resources',
      params,
    );
    expect(
      body.data.resources.map((r) => [r.kind, r.resourceId, r.quantityUsed, r.totalCost, r.resourceUri]),
    ).toEqual(legacy.resources.map((r) => ['legacy', r.resourceId, r.quantityUsed, r.totalCost, null]));
    const summary = await h.client.getSubscriptionUsageSummary(
      legacy.customerId,
      legacy.subscription.subscriptionId,
    );
    const served = await get<Record<string, unknown> | null>(handlers().summary, '/usage-summary', params);
    expect(served.data?.totalCost ?? null).toBe(summary?.totalCost ?? null);
    expect(served.data?.currencyLocale ?? null).toBe(summary?.currencyLocale ?? null);
    const meters = await get<{ meters: unknown[] }>(handlers().meters, '/meters', params);
    expect(meters.data.meters).toEqual([]);
    const groups = await get<{ resourceGroups: unknown[] }>(handlers().groups, '/resource-groups', params);
    expect(groups.data.resourceGroups).toEqual([]);
  });
});

describe('history', () => {
  beforeAll(async () => {
    // Three days on: usage has grown, and a second run adds a point to every history.
    h.sandbox.clock.setNow(LATER.getTime());
    finishedRun(await startScheduledRun(h.deps()));
  }, 180_000);

  test('when an Azure plan’s history is read, then a point per run with the plan’s total then', async () => {
    const params = { customerId: wide.customerId, subscriptionId: wide.plan.subscriptionId };
    const res = await call(handlers(LATER).subscriptionHistory, '/api/x', { params });
    const points = res.json<{ data: Array<{ runId: string; totalCost: string; usdTotalCost: string }> }>()
      .data;
    expect(points).toHaveLength(2);
    const now = (await collect(h.client.listSubscriptionUsageRecords(wide.customerId))).find(
      (s) => s.subscriptionId === wide.plan.subscriptionId,
    ) as SubscriptionMonthlyUsageRecord;
    expect(points.map((p) => [p.totalCost, p.usdTotalCost])).toEqual([
      [now.totalCost, now.usdTotalCost],
      [wide.plan.totalCost, wide.plan.usdTotalCost],
    ]);
    expect(points[1].runId).toBe(firstRunId);
  });

  test('when a resource group’s history is read, then a point per run and Azure subscription, each the group’s exact sum then', async () => {
    const group = wide.resources.find((r) => r.resourceGroupName !== undefined) as ResourceUsageRecord;
    const name = group.resourceGroupName as string;
    const latest = await collect(
      h.client.listPlanResourceUsageRecords(wide.customerId, wide.plan.subscriptionId),
    );
    const sumOf = (records: ResourceUsageRecord[], azureSub: string) =>
      total(
        records
          .filter(
            (r) => r.entitlementId === azureSub && r.resourceGroupName?.toLowerCase() === name.toLowerCase(),
          )
          .map((r) => r.totalCost),
      );
    const azureSubs = [
      ...new Set(
        wide.resources
          .filter((r) => r.resourceGroupName?.toLowerCase() === name.toLowerCase())
          .map((r) => r.entitlementId),
      ),
    ];
    const params = {
      customerId: wide.customerId,
      subscriptionId: wide.plan.subscriptionId,
      // Any case names the same group.
      resourceGroup: name.toUpperCase(),
    };
    const res = await call(handlers(LATER).groupHistory, '/api/x', { params });
    expect(res.status).toBe(200);
    expectConforms(`${SUB}/resource-groups/{resourceGroup}/history`, 'get', res);
    const points = res.json<{
      data: Array<{ runId: string; azureSubscriptionId: string; resourceGroup: string; totalCost: string }>;
    }>().data;
    expect(points).toHaveLength(2 * azureSubs.length);
    for (const p of points) {
      expect(p.resourceGroup.toLowerCase()).toBe(name.toLowerCase());
      const records = p.runId === firstRunId ? wide.resources : latest;
      expect(units(p.totalCost)).toBe(sumOf(records, p.azureSubscriptionId));
    }
    // One Azure subscription's points alone, paged one at a time.
    const only = azureSubs[0] as string;
    // One handler for both pages: its process key signs and checks the token.
    const { groupHistory } = handlers(LATER);
    const first = await call(groupHistory, `/api/x?azureSubscriptionId=${only}&limit=1`, {
      params,
    });
    const page = first.json<{ data: Array<{ azureSubscriptionId: string }>; continuationToken: string }>();
    expect(page.data.map((p) => p.azureSubscriptionId)).toEqual([only]);
    const second = await call(
      groupHistory,
      `/api/x?azureSubscriptionId=${only}&limit=1&continuationToken=${encodeURIComponent(page.continuationToken)}`,
      { params },
    );
    expect(
      second.json<{ data: Array<{ azureSubscriptionId: string }> }>().data.map((p) => p.azureSubscriptionId),
    ).toEqual([only]);
  });

  test('when a resource group is unknown or its name is not one Azure allows, then 404 or 400 with the code that says so', async () => {
    const base = { customerId: wide.customerId, subscriptionId: wide.plan.subscriptionId };
    const unknown = await call(handlers().groupHistory, '/api/x', {
      params: { ...base, resourceGroup: 'no-such-rg' },
    });
    expect([unknown.status, unknown.json<ErrorAnswer>().error.code]).toEqual([404, 'ResourceGroupNotFound']);
    for (const bad of ['a/b', 'a#b', 'ends.', 'x'.repeat(91), '']) {
      const res = await call(handlers().groupHistory, '/api/x', { params: { ...base, resourceGroup: bad } });
      expect([bad, res.status, res.json<ErrorAnswer>().error.code]).toEqual([
        bad,
        400,
        'InvalidResourceGroup',
      ]);
    }
    const badQuery = await call(handlers().groupHistory, '/api/x?azureSubscriptionId=nope', {
      params: { ...base, resourceGroup: 'rg-prod' },
    });
    expect(badQuery.json<ErrorAnswer>().error.code).toBe('InvalidQuery');
  });
});
