import { ALL_METHODS } from '../../src/api/endpoint';
import { HTTP_FUNCTIONS } from '../../src/functions/httpFunctions';
import { createCustomerHistoryHandler } from '../../src/api/handlers/customerHistory';
import {
  createCustomerDailyUsageHandler,
  createPartnerDailyUsageHandler,
  createUsageExportsHandler,
} from '../../src/api/handlers/dailyUsage';
import type { DailyUsageReader, UsageExportRecord } from '../../src/domain/dailyUsage';
import { createCustomersHandler } from '../../src/api/handlers/customers';
import { createCustomerSubscriptionsHandler } from '../../src/api/handlers/customerSubscriptions';
import { createCustomerUsageSummaryHandler } from '../../src/api/handlers/customerUsageSummary';
import { createNotFoundHandler } from '../../src/api/handlers/notFound';
import { createOpenApiHandler } from '../../src/api/handlers/openapi';
import { createPartnerUsageSummaryHandler } from '../../src/api/handlers/partnerUsageSummary';
import { createSnapshotsHandler } from '../../src/api/handlers/snapshots';
import { createSubscriptionHistoryHandler } from '../../src/api/handlers/subscriptionHistory';
import { createSubscriptionResourcesHandler } from '../../src/api/handlers/subscriptionResources';
import {
  createSubscriptionAzureSubscriptionsHandler,
  createSubscriptionMetersHandler,
  createSubscriptionResourceGroupsHandler,
  createSubscriptionUsageSummaryHandler,
} from '../../src/api/handlers/azurePlanDetail';
import { createResourceGroupHistoryHandler } from '../../src/api/handlers/resourceGroupHistory';
import { openApiDocument } from '../../src/api/openapi';
import { registeredFunctions, triggerOf } from '../../dev/localHost/functionsCore';
import '../../src/index';
import type { SnapshotsDependencies } from '../../src/api/handlers/snapshots';
import {
  createBudgetChangesHandler,
  createCustomerBudgetHandler,
  type BudgetReadDependencies,
} from '../../src/api/handlers/customerBudget';
import { createUsageStore } from '../../src/storage/tableUsageStore';
import { testTables, uniqueTablePrefix } from '../support/tables';
import type { UsageApiDependencies } from '../../src/api/usageResponse';
import { azuriteBackend, memoryBackend, type Backend } from './support/backends';
import { apiSettings, clock, customerId, subscriptionId } from './support/fixtures';
import { call, type Handler } from './support/http';
import { ajv, doc, expectConforms, type Operation } from './support/openapiValidator';
import type { MemoryState } from './support/memoryUsageStore';

const CATCH_ALL = '{*path}';

const httpFunctions = registeredFunctions()
  .map((fn) => ({ fn, trigger: triggerOf(fn) }))
  .filter(({ trigger }) => trigger.type.toLowerCase() === 'httptrigger')
  .map(({ fn, trigger }) => ({
    name: fn.name,
    path: `/${String(trigger.route)}`,
    route: String(trigger.route),
    methods: (trigger.methods as string[]).map((m) => m.toUpperCase()),
    authLevel: String(trigger.authLevel),
  }));

describe('routes and document agree', () => {
  test('when the app registers its HTTP functions, then every route is documented and every documented path is registered', () => {
    // Functions that share a route (budget: GET at function level, PUT at admin) are one path item.
    const registered = new Set(httpFunctions.filter((f) => f.route !== CATCH_ALL).map((f) => f.path));
    expect([...registered].sort()).toEqual(Object.keys(doc.paths).sort());
    // And the catch-all exists, so unknown routes get the JSON 404 in Azure too.
    expect(httpFunctions.find((f) => f.route === CATCH_ALL)).toMatchObject({ authLevel: 'anonymous' });
  });

  test('when an operation is documented, then its method is registered and its security matches the auth level', () => {
    const schemeToLevel: Record<string, string> = { functionKey: 'function', masterKey: 'admin' };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const fn = httpFunctions.find((f) => f.path === path && f.methods.includes(method.toUpperCase()));
        expect({ path, method, registered: fn !== undefined }).toEqual({ path, method, registered: true });
        const schemes = (operation.security ?? []).flatMap((s) => Object.keys(s));
        const expected = schemes.length === 0 ? 'anonymous' : schemeToLevel[schemes[0]];
        expect({ path, method, level: fn?.authLevel }).toEqual({ path, method, level: expected });
      }
    }
  });

  test('when the API routes are registered, then each route takes every method exactly once, so wrong ones reach a handler for 405', () => {
    const routes = new Set(
      httpFunctions.filter((f) => f.route.startsWith('v1/') || f.route === CATCH_ALL).map((f) => f.route),
    );
    for (const route of routes) {
      const methods = httpFunctions.filter((f) => f.route === route).flatMap((f) => f.methods);
      expect({ route, methods: methods.sort() }).toEqual({ route, methods: [...ALL_METHODS].sort() });
    }
  });

  test('when the budget route is registered, then GET (and HEAD, OPTIONS, the 405s) at function level and PUT at admin level', () => {
    const budget = httpFunctions.filter((f) => f.route === 'v1/customers/{customerId}/budget');
    expect(
      budget.map((f) => [f.authLevel, f.methods.includes('PUT'), f.methods.includes('GET')]).sort(),
    ).toEqual([
      ['admin', true, false],
      ['function', false, true],
    ]);
  });

  test('when the usage routes are registered, then function level; snapshot control admin; health and the document anonymous', () => {
    const level = Object.fromEntries(httpFunctions.map((f) => [f.route, f.authLevel]));
    expect(level).toMatchObject({
      'v1/partner/usage-summary': 'function',
      'v1/customers': 'function',
      'v1/customers/{customerId}/budget/changes': 'admin',
      'v1/customers/{customerId}/usage-summary': 'function',
      'v1/customers/{customerId}/subscriptions': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/resources': 'function',
      'v1/customers/{customerId}/history': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/history': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/usage-summary': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/meters': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/resource-groups': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/azure-subscriptions': 'function',
      'v1/customers/{customerId}/subscriptions/{subscriptionId}/resource-groups/{resourceGroup}/history':
        'function',
      'v1/snapshots': 'admin',
      'v1/customers/{customerId}/daily-usage': 'function',
      'v1/daily-usage': 'function',
      'v1/usage-exports': 'admin',
      'v1/openapi.json': 'anonymous',
      health: 'anonymous',
    });
  });
});

// ---- real responses against the document's schemas ----

interface Deps {
  budgets: BudgetReadDependencies;
  deps: UsageApiDependencies;
  empty: UsageApiDependencies;
  runs: SnapshotsDependencies;
}
const c1 = customerId(1);
const s1 = subscriptionId(1, 1);
const budget = '/v1/customers/{customerId}/budget';

interface Case {
  path: string;
  method?: string;
  handler: (d: Deps) => Handler;
  url: string;
  params?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  status: number;
}

const summary = '/v1/customers/{customerId}/usage-summary';
const resources = '/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources';
const subHistory = '/v1/customers/{customerId}/subscriptions/{subscriptionId}/history';
const sub = '/v1/customers/{customerId}/subscriptions/{subscriptionId}';
const rgHistory = `${sub}/resource-groups/{resourceGroup}/history`;
const c2 = customerId(2);
const plan2 = subscriptionId(2, 2);
/** The Azure-plan routes: a plan with its detail, a legacy subscription, CSV, and the 404s. */
const planCases: Case[] = (
  [
    [`${sub}/usage-summary`, createSubscriptionUsageSummaryHandler, false],
    [`${sub}/meters`, createSubscriptionMetersHandler, true],
    [`${sub}/resource-groups`, createSubscriptionResourceGroupsHandler, true],
    [`${sub}/azure-subscriptions`, createSubscriptionAzureSubscriptionsHandler, true],
  ] as const
).flatMap(([path, create, csv]) => [
  ...[plan2, subscriptionId(2, 1), subscriptionId(3, 2)].map((s) => ({
    path,
    handler: (d: Deps) => create(d.deps),
    url: '/',
    params: { customerId: s === subscriptionId(3, 2) ? customerId(3) : c2, subscriptionId: s },
    status: 200,
  })),
  ...(csv
    ? [
        {
          path,
          handler: (d: Deps) => create(d.deps),
          url: '/?format=csv',
          params: { customerId: c2, subscriptionId: plan2 },
          status: 200,
        },
      ]
    : []),
  {
    path,
    handler: (d: Deps) => create(d.deps),
    url: '/',
    params: { customerId: c2, subscriptionId: subscriptionId(2, 9) },
    status: 404,
  },
]);

const cases: Case[] = [
  ...planCases,
  {
    path: rgHistory,
    handler: (d) => createResourceGroupHistoryHandler(d.deps),
    url: '/?limit=1',
    params: { customerId: c2, subscriptionId: plan2, resourceGroup: 'testrg1' },
    status: 200,
  },
  {
    path: rgHistory,
    handler: (d) => createResourceGroupHistoryHandler(d.deps),
    url: '/?azureSubscriptionId=AAAAAAAA-0000-4000-8000-000000000001',
    params: { customerId: c2, subscriptionId: plan2, resourceGroup: 'rg.shared(1)' },
    status: 200,
  },
  {
    path: rgHistory,
    handler: (d) => createResourceGroupHistoryHandler(d.deps),
    url: '/',
    params: { customerId: c2, subscriptionId: plan2, resourceGroup: 'no-such-group' },
    status: 404,
  },
  {
    path: rgHistory,
    handler: (d) => createResourceGroupHistoryHandler(d.deps),
    url: '/',
    params: { customerId: c2, subscriptionId: plan2, resourceGroup: 'bad/name.' },
    status: 400,
  },
  {
    path: '/v1/partner/usage-summary',
    handler: (d) => createPartnerUsageSummaryHandler(d.deps),
    url: '/',
    status: 200,
  },
  {
    path: '/v1/partner/usage-summary',
    handler: (d) => createPartnerUsageSummaryHandler(d.empty),
    url: '/',
    status: 404,
  },
  {
    path: '/v1/partner/usage-summary',
    handler: (d) => createPartnerUsageSummaryHandler(d.deps),
    url: '/',
    method: 'PUT',
    status: 405,
  },
  { path: '/v1/customers', handler: (d) => createCustomersHandler(d.deps), url: '/?limit=2', status: 200 },
  {
    path: '/v1/customers',
    handler: (d) => createCustomersHandler(d.deps),
    url: '/?limit=1000&overBudget=false',
    status: 200,
  },
  { path: '/v1/customers', handler: (d) => createCustomersHandler(d.deps), url: '/?format=csv', status: 200 },
  { path: '/v1/customers', handler: (d) => createCustomersHandler(d.deps), url: '/?limit=0', status: 400 },
  {
    path: '/v1/customers',
    handler: (d) => createCustomersHandler(d.deps),
    url: '/',
    headers: { Accept: 'image/png' },
    status: 406,
  },
  { path: '/v1/customers', handler: (d) => createCustomersHandler(d.empty), url: '/', status: 404 },
  ...[1, 2, 5].map((n) => ({
    path: summary,
    handler: (d: Deps) => createCustomerUsageSummaryHandler(d.deps),
    url: '/',
    params: { customerId: customerId(n) },
    status: 200,
  })),
  {
    path: summary,
    handler: (d) => createCustomerUsageSummaryHandler(d.deps),
    url: '/',
    params: { customerId: 'x' },
    status: 400,
  },
  {
    path: summary,
    handler: (d) => createCustomerUsageSummaryHandler(d.deps),
    url: '/',
    params: { customerId: customerId(7) },
    status: 404,
  },
  {
    path: '/v1/customers/{customerId}/subscriptions',
    handler: (d) => createCustomerSubscriptionsHandler(d.deps),
    url: '/',
    params: { customerId: c1 },
    status: 200,
  },
  {
    path: '/v1/customers/{customerId}/subscriptions',
    handler: (d) => createCustomerSubscriptionsHandler(d.deps),
    url: '/',
    params: { customerId: customerId(99) },
    status: 404,
  },
  {
    path: resources,
    handler: (d) => createSubscriptionResourcesHandler(d.deps),
    url: '/',
    params: { customerId: c1, subscriptionId: s1 },
    status: 200,
  },
  {
    path: resources,
    handler: (d) => createSubscriptionResourcesHandler(d.deps),
    url: '/',
    params: { customerId: c1, subscriptionId: subscriptionId(1, 2) },
    status: 200,
  },
  {
    path: resources,
    handler: (d) => createSubscriptionResourcesHandler(d.deps),
    url: '/',
    params: { customerId: c1, subscriptionId: s1 },
    headers: { Accept: 'text/csv' },
    status: 200,
  },
  {
    path: resources,
    handler: (d) => createSubscriptionResourcesHandler(d.deps),
    url: '/',
    params: { customerId: c1, subscriptionId: subscriptionId(1, 7) },
    status: 404,
  },
  {
    path: '/v1/customers/{customerId}/history',
    handler: (d) => createCustomerHistoryHandler(d.deps),
    url: '/?limit=2',
    params: { customerId: c1 },
    status: 200,
  },
  {
    path: '/v1/customers/{customerId}/history',
    handler: (d) => createCustomerHistoryHandler(d.deps),
    url: '/?from=2020-01-01&to=2020-01-02',
    params: { customerId: c1 },
    status: 200,
  },
  {
    path: '/v1/customers/{customerId}/history',
    handler: (d) => createCustomerHistoryHandler(d.deps),
    url: '/?continuationToken=x',
    params: { customerId: c1 },
    status: 400,
  },
  {
    path: subHistory,
    handler: (d) => createSubscriptionHistoryHandler(d.deps),
    url: '/',
    params: { customerId: c1, subscriptionId: s1 },
    status: 200,
  },
  {
    path: subHistory,
    handler: (d) => createSubscriptionHistoryHandler(d.deps),
    url: '/',
    params: { customerId: customerId(7), subscriptionId: subscriptionId(7, 1) },
    status: 404,
  },
  ...[1, 2].map((n) => ({
    path: budget,
    handler: (d: Deps) => createCustomerBudgetHandler(d.budgets),
    url: '/',
    params: { customerId: customerId(n) },
    status: 200,
  })),
  {
    path: budget,
    handler: (d) => createCustomerBudgetHandler(d.budgets),
    url: '/',
    params: { customerId: customerId(99) },
    status: 404,
  },
  {
    path: budget,
    method: 'delete',
    handler: (d) => createCustomerBudgetHandler(d.budgets),
    url: '/',
    params: { customerId: c1 },
    status: 405,
  },
  {
    path: `${budget}/changes`,
    handler: (d) => createBudgetChangesHandler(d.budgets),
    url: '/?limit=5',
    params: { customerId: c1 },
    status: 200,
  },
  {
    path: `${budget}/changes`,
    handler: (d) => createBudgetChangesHandler(d.budgets),
    url: '/',
    params: { customerId: customerId(99) },
    status: 404,
  },
  {
    path: '/v1/snapshots',
    handler: (d) => createSnapshotsHandler(d.runs),
    url: '/',
    status: 200,
  },
  {
    path: '/v1/snapshots',
    method: 'post',
    handler: (d) => createSnapshotsHandler(d.runs),
    url: '/',
    status: 202,
  },
  {
    path: '/v1/snapshots',
    method: 'post',
    handler: (d) => createSnapshotsHandler(d.runs),
    url: '/',
    status: 409,
  },
  {
    path: '/v1/snapshots',
    method: 'get',
    handler: (d) => createSnapshotsHandler(d.runs),
    url: '/?x=1',
    status: 400,
  },
  ...dailyUsageCases(),
  { path: '/v1/openapi.json', handler: () => createOpenApiHandler(HTTP_FUNCTIONS), url: '/', status: 200 },
];

/** The daily-usage routes over a fixed reader (the store itself is tested in test/usageExport). */
function dailyUsageCases(): Case[] {
  const exportRecord: UsageExportRecord = {
    exportId: '20261110T000000000Z-00000001',
    source: { kind: 'unbilled', billingPeriod: 'current', currencyCode: 'USD', month: '2026-11' },
    trigger: 'schedule',
    state: 'partial',
    requestedAt: '2026-11-10T00:00:00.000Z',
    updatedAt: '2026-11-10T01:00:00.000Z',
    finishedAt: '2026-11-10T01:00:00.000Z',
    blobCount: 2,
    blobsDone: 1,
    failedBlobs: [{ index: 1, name: 'part-00001.json.gz', reason: 'reset' }],
    linesRead: 10,
    linesRejected: 0,
    customersMerged: 1,
    reason: 'blobs failed: part-00001.json.gz',
  };
  const point = {
    day: '2026-11-03',
    value: 'Virtual Machines',
    billingCurrency: 'EUR',
    billingTotal: '-1.50',
    pricingCurrency: 'USD',
    pricingTotal: '2',
    lines: 3,
  };
  const reader: DailyUsageReader = {
    customerDailyUsage: async () => ({
      sources: [
        {
          month: '2026-11',
          exportId: exportRecord.exportId,
          committedAt: '2026-11-10T01:00:00.000Z',
          kind: 'unbilled',
        },
      ],
      points: [point, { ...point, value: null, label: '(untagged)' }],
    }),
    partnerDailyUsage: async () => ({ points: [{ ...point, customerId: c1, value: c1 }] }),
    listExports: async () => [exportRecord],
  };
  const customer = '/v1/customers/{customerId}/daily-usage';
  const range = '/?from=2026-11-01&to=2026-11-30';
  return [
    {
      path: customer,
      handler: () => createCustomerDailyUsageHandler({ reader }),
      url: `${range}&groupBy=tag:env`,
      params: { customerId: c1 },
      status: 200,
    },
    {
      path: customer,
      handler: () => createCustomerDailyUsageHandler({ reader }),
      url: `${range}&format=csv`,
      params: { customerId: c1 },
      status: 200,
    },
    {
      path: customer,
      handler: () => createCustomerDailyUsageHandler({ reader }),
      url: '/?from=2026-11-01&to=2027-11-01',
      params: { customerId: c1 },
      status: 400,
    },
    {
      path: customer,
      handler: () => createCustomerDailyUsageHandler({ reader }),
      url: `${range}&groupBy=planet`,
      params: { customerId: c1 },
      status: 400,
    },
    {
      path: '/v1/daily-usage',
      handler: () => createPartnerDailyUsageHandler({ reader }),
      url: `${range}&groupBy=customer`,
      status: 200,
    },
    {
      path: '/v1/daily-usage',
      handler: () => createPartnerDailyUsageHandler({ reader }),
      url: '/?from=2026-11-31&to=2026-12-01',
      status: 400,
    },
    {
      path: '/v1/usage-exports',
      handler: () => createUsageExportsHandler({ reader }),
      url: '/?limit=5',
      status: 200,
    },
    {
      path: '/v1/usage-exports',
      method: 'post',
      handler: () =>
        createUsageExportsHandler({ reader, requester: { requestBilledExport: async () => exportRecord } }),
      url: '/',
      headers: { 'content-type': 'application/json' },
      body: '{"invoiceId":"G016907411"}',
      status: 202,
    },
  ];
}

const backends: Array<[string, (state?: MemoryState) => Promise<Backend>]> = [
  ['Azurite', (state) => azuriteBackend(state)],
  ['in-memory', async (state) => memoryBackend(state)],
];

describe.each(backends)('over the %s store', (_name, makeBackend) => {
  let d: Deps;
  beforeAll(async () => {
    const [full, empty] = await Promise.all([makeBackend(), makeBackend({ customers: [], runs: [] })]);
    d = {
      budgets: await budgetDeps(full.store),
      deps: { reader: full.store, settings: apiSettings, clock },
      empty: { reader: empty.store, settings: apiSettings, clock },
      runs: { reader: full.store, runs: full.store },
    };
  }, 60_000);

  test.each(
    cases.map(
      (c) =>
        [
          `${(c.method ?? 'get').toUpperCase()} ${c.path}${c.url.slice(1)} ${JSON.stringify(c.params ?? {})} ${JSON.stringify(c.headers ?? {})}`,
          c,
        ] as const,
    ),
  )('when %s is answered, then the response conforms to the document', async (_label, c) => {
    const method = c.method ?? 'get';
    const res = await call(c.handler(d), `/api${c.path}${c.url.slice(1)}`, {
      method: method.toUpperCase(),
      params: c.params,
      headers: c.headers,
      body: c.body,
    });
    expect(res.status).toBe(c.status);
    // A 405 is documented on the GET operation: it is what any route answers to a wrong method.
    expectConforms(c.path, res.status === 405 ? 'get' : method, res);
  });
});

test('when an unknown route is called, then the body matches the Error schema', async () => {
  const res = await call(createNotFoundHandler(), '/api/v9/x');
  const validate = ajv.getSchema('openapi.json#/components/schemas/Error');
  expect(validate?.(res.json())).toBe(true);
});

test('when the document is compiled, then every schema in it compiles under JSON Schema 2020-12 strict mode', () => {
  const { components } = openApiDocument(HTTP_FUNCTIONS) as {
    components: { schemas: Record<string, unknown> };
  };
  for (const name of Object.keys(components.schemas)) {
    expect(ajv.getSchema(`openapi.json#/components/schemas/${name}`)).toBeDefined();
  }
  expect(doc.openapi).toBe('3.1.0');
});

test('when each documented query parameter is sent, then the route knows it; an undocumented one is refused', async () => {
  const backend = memoryBackend();
  const d: Deps = {
    budgets: await budgetDeps(backend.store),
    deps: { reader: backend.store, settings: apiSettings, clock },
    empty: { reader: backend.store, settings: apiSettings, clock },
    runs: { reader: backend.store, runs: backend.store },
  };
  const params = (
    openApiDocument(HTTP_FUNCTIONS) as {
      components: { parameters: Record<string, { name: string; in: string }> };
    }
  ).components.parameters;
  const seen = new Set<string>();
  for (const c of cases.filter((c) => c.status === 200 && (c.method ?? 'get') === 'get')) {
    if (seen.has(c.path)) continue;
    seen.add(c.path);
    const operation = doc.paths[c.path].get as Operation & {
      parameters?: Array<{ $ref?: string; name?: string; in?: string }>;
    };
    const query = (operation.parameters ?? [])
      .map((p) => (p.$ref ? params[p.$ref.split('/').pop() as string] : p))
      .filter((p): p is { name: string; in: string } => p?.in === 'query')
      .map((p) => p.name);
    for (const name of [...query, 'code']) {
      const res = await call(c.handler(d), `/api${c.path}?${name}=%01`, { params: c.params });
      expect({ path: c.path, name, text: res.text }).not.toEqual(
        expect.objectContaining({ text: expect.stringContaining('Unknown query parameter') }),
      );
    }
    const unknown = await call(c.handler(d), `/api${c.path}?undocumented=1`, { params: c.params });
    expect({ path: c.path, status: unknown.status }).toEqual({ path: c.path, status: 400 });
  }
  expect(seen.size).toBe(Object.keys(doc.paths).length - 1); // all but /health (not an API handler)
});

/** The budget store on Azurite, beside either backend: budgets have no in-memory double. */
async function budgetDeps(reader: UsageApiDependencies['reader']): Promise<BudgetReadDependencies> {
  const usage = createUsageStore(testTables({ tablePrefix: uniqueTablePrefix('oab') }));
  await usage.ensureTables();
  return { reader, settings: apiSettings, clock, budgets: usage.budgets };
}
