import { LONG_URI_CHARS, startSandbox, type Sandbox } from '../../dev/sandbox';
import { fixture, pcGet, rawNumbers, signature, toUnits, walk, type PcResponse } from './support';

// A 50-customer tenant, mid-month, clock frozen: every figure below is fixed by the seed.
const NOW = '2026-03-15T12:00:00Z';

let sandbox: Sandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox({ customers: 50, now: NOW, freezeClock: true });
  token = sandbox.issueAccessToken();
});
afterAll(() => sandbox.close());

/** Every Azure plan of the tenant with the legacy subscriptions beside them. */
function plans() {
  const out: { customerId: string; planId: string; base: string }[] = [];
  for (const customer of sandbox.data.customers()) {
    if (customer.kind !== 'azurePlan') continue;
    for (const plan of customer.subscriptions)
      out.push({
        customerId: customer.id,
        planId: plan.id,
        base: `/customers/${customer.id}/subscriptions/${plan.id}`,
      });
  }
  return out;
}

function legacySubscription() {
  for (const customer of sandbox.data.customers()) {
    const subscription = customer.subscriptions.find(() => customer.kind === 'legacy');
    if (subscription) return { customerId: customer.id, subscriptionId: subscription.id };
  }
  throw new Error('no legacy subscription in the tenant');
}

/** The raw cost literals of every item of every page, summed exactly in 10^-22 units. */
function sum(pages: PcResponse[], key: 'totalCost' | 'usdTotalCost'): bigint {
  return pages.flatMap((p) => rawNumbers(p.text, key)).reduce((total, n) => total + toUnits(n, 22), 0n);
}

const items = (pages: PcResponse[]) => pages.flatMap((p) => p.body.items as Record<string, unknown>[]);

describe('Azure plan detail: figures agree', () => {
  test('when every Azure plan of a 50-customer tenant is read, then meters, resources and the summary each add up to its monthly record exactly', async () => {
    const all = plans();
    expect(all.length).toBeGreaterThan(10);
    let withUsage = 0;
    for (const { customerId, planId, base } of all) {
      const [records] = await walk(sandbox, `/customers/${customerId}/subscriptions/usagerecords`, token);
      const record = (records.body.items as { id: string }[]).findIndex((r) => r.id === planId);
      const recordCost = toUnits(rawNumbers(records.text, 'totalCost')[record], 22);
      const recordUsd = toUnits(rawNumbers(records.text, 'usdTotalCost')[record], 22);
      const meters = await walk(sandbox, `${base}/meterusagerecords`, token);
      const resources = await walk(sandbox, `${base}/resourceusagerecords`, token);
      const summary = await pcGet(sandbox, `/v1${base}/usagesummary`, { token });

      expect(summary.status).toBe(200);
      const expected = { cost: recordCost, usd: recordUsd };
      expect({ cost: sum(meters, 'totalCost'), usd: sum(meters, 'usdTotalCost') }).toEqual(expected);
      expect({ cost: sum(resources, 'totalCost'), usd: sum(resources, 'usdTotalCost') }).toEqual(expected);
      expect({ cost: sum([summary], 'totalCost'), usd: sum([summary], 'usdTotalCost') }).toEqual(expected);
      if (recordCost > 0n) withUsage++;
    }
    // Sums of zeros prove nothing: most plans must have usage.
    expect(withUsage).toBeGreaterThan(all.length / 2);
  });

  test('when a plan has several Azure subscriptions, then its resources spread over them and over resource groups, and every one is an entitlement of the plan', async () => {
    let spread = 0;
    for (const { base, planId } of plans()) {
      const entitlements = items(await walk(sandbox, `${base}/azureEntitlements`, token));
      const resources = items(await walk(sandbox, `${base}/resourceusagerecords`, token));
      const ids = new Set(entitlements.map((e) => e.id));
      for (const entitlement of entitlements) expect(entitlement.subscriptionId).toBe(planId);
      for (const resource of resources) {
        expect(ids.has(resource.entitlementId)).toBe(true);
        expect(resource.subscriptionId).toBe(planId);
        const prefix = `/subscriptions/${String(resource.entitlementId)}/resourceGroups/${String(resource.resourceGroupName)}/providers/`;
        expect((resource.resourceUri as string).startsWith(prefix)).toBe(true);
      }
      const used = new Set(resources.map((r) => r.entitlementId));
      const groups = new Set(
        resources.map((r) => `${String(r.entitlementId)}/${String(r.resourceGroupName)}`),
      );
      if (used.size >= 2 && groups.size >= 3) spread++;
    }
    expect(spread).toBeGreaterThanOrEqual(3);
  });

  test('when meter ids and resource URIs are read, then some carry characters Table keys forbid and some URIs pass 1 KiB', async () => {
    const meterIds: string[] = [];
    const uris: string[] = [];
    for (const { base } of plans()) {
      meterIds.push(
        ...items(await walk(sandbox, `${base}/meterusagerecords`, token)).map((m) => m.meterId as string),
      );
      uris.push(
        ...items(await walk(sandbox, `${base}/resourceusagerecords`, token)).map(
          (r) => r.resourceUri as string,
        ),
      );
    }
    // Azure Table keys forbid / \ # ? and control characters.
    for (const forbidden of ['/', '\\', '#', '?']) {
      expect([forbidden, meterIds.some((id) => id.includes(forbidden))]).toEqual([forbidden, true]);
      expect([forbidden, uris.some((uri) => uri.includes(forbidden))]).toEqual([forbidden, true]);
    }
    // eslint-disable-next-line no-control-regex
    const control = /[\u0000-\u001f\u007f]/;
    expect(meterIds.some((id) => control.test(id))).toBe(true);
    expect(uris.some((uri) => control.test(uri))).toBe(true);
    expect(uris.some((uri) => uri.length > 1024)).toBe(true);
    expect(Math.max(...uris.map((u) => u.length))).toBeGreaterThanOrEqual(LONG_URI_CHARS);
    expect(new Set(uris).size).toBe(uris.length);
  });

  test('when a second sandbox starts with the same seed, then it serves the same plan detail byte for byte', async () => {
    const twin = await startSandbox({ customers: 50, now: NOW, freezeClock: true });
    try {
      const { base } = plans()[0];
      for (const tail of ['meterusagerecords', 'resourceusagerecords', 'azureEntitlements', 'usagesummary']) {
        const a = await pcGet(sandbox, `/v1${base}/${tail}`, { token });
        const b = await pcGet(twin, `/v1${base}/${tail}`, { token: twin.issueAccessToken() });
        expect(b.text).toBe(a.text);
      }
    } finally {
      await twin.close();
    }
  });
});

const FIXTURES: [string, () => string][] = [
  ['subscription-usage-summary.azure-plan.txt', () => `/v1${plans()[0].base}/usagesummary`],
  [
    'subscription-usage-summary.legacy.txt',
    () => {
      const { customerId, subscriptionId } = legacySubscription();
      return `/v1/customers/${customerId}/subscriptions/${subscriptionId}/usagesummary`;
    },
  ],
  ['meter-usage-records.txt', () => `/v1${plans()[0].base}/meterusagerecords`],
  ['resource-usage-records.azure-plan.txt', () => `/v1${plans()[0].base}/resourceusagerecords`],
  ['azure-entitlements.txt', () => `/v1${plans()[0].base}/azureEntitlements`],
];

/** Shapes of a body and its first item: the items of a page all share one shape. */
function shapes(body: unknown): string[] {
  const value = body as { items?: unknown[] };
  return [
    signature(value).join('\n'),
    ...(value.items?.length ? [signature(value.items[0]).join('\n')] : []),
  ];
}

describe('Azure plan detail: documented shapes', () => {
  test.each(FIXTURES)(
    'when the docs show %s, then the sandbox serves exactly those fields, in that order, with those JSON types',
    async (name, uri) => {
      const served = await pcGet(sandbox, uri(), { token });
      expect(served.status).toBe(200);
      expect(shapes(served.body)).toEqual(shapes(JSON.parse(fixture(name))));
      for (const item of (served.body.items ?? []) as unknown[]) {
        expect(signature(item)).toEqual(signature(JSON.parse(fixture(name)).items[0]));
      }
    },
  );

  test('when a budget is read with and without an amount, then both documented shapes are served', async () => {
    const withBudget = [...sandbox.data.customers()].find((c) => c.budget !== undefined);
    const without = [...sandbox.data.customers()].find((c) => c.budget === undefined);
    const a = await pcGet(sandbox, `/v1/customers/${withBudget?.id}/usagebudget`, { token });
    const b = await pcGet(sandbox, `/v1/customers/${without?.id}/usagebudget`, { token });
    expect(signature(a.body)).toEqual(signature(JSON.parse(fixture('usage-budget.txt'))));
    expect(signature(b.body)).toEqual(signature(JSON.parse(fixture('usage-budget.none.txt'))));
    expect(rawNumbers(a.text, 'amount')).toEqual([String(withBudget?.budget)]);
  });
});

describe('Azure plan detail: refusals and auth', () => {
  test('when an Azure-plan-only call names a legacy MS-AZR-0145P subscription, then it answers 400 code 2000 in the PartnerFD error body', async () => {
    const { customerId, subscriptionId } = legacySubscription();
    for (const tail of ['meterusagerecords', 'resourceusagerecords', 'azureEntitlements']) {
      const refused = await pcGet(
        sandbox,
        `/v1/customers/${customerId}/subscriptions/${subscriptionId}/${tail}`,
        {
          token,
        },
      );
      expect(refused.status).toBe(400);
      expect(signature(refused.body)).toEqual(signature(JSON.parse(fixture('error.txt'))));
      expect(refused.body).toMatchObject({ code: 2000, source: 'PartnerFD' });
      expect(refused.body.description).toMatch(/only available for an Azure plan/);
    }
  });

  test('when the legacy-only resources call names an Azure plan, then it is refused with 400 code 2000', async () => {
    const { base } = plans()[0];
    const refused = await pcGet(sandbox, `/v1${base}/usagerecords/resources`, { token });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 2000, source: 'PartnerFD' });
  });

  test('when a plan id is unknown to the customer, then each call answers 404 code 20003', async () => {
    const { customerId } = plans()[0];
    for (const tail of ['meterusagerecords', 'resourceusagerecords', 'azureEntitlements', 'usagesummary']) {
      const missing = await pcGet(
        sandbox,
        `/v1/customers/${customerId}/subscriptions/00000000-0000-4000-8000-000000000000/${tail}`,
        { token },
      );
      expect([tail, missing.status, missing.body.code]).toEqual([tail, 404, 20003]);
    }
  });

  test('when an app-only token is used, then meters, resources and the summary are refused with 403 and entitlements and the budget are served', async () => {
    const appOnly = sandbox.issueAppOnlyToken();
    const { base, customerId } = plans()[0];
    const status = async (uri: string) => (await pcGet(sandbox, uri, { token: appOnly })).status;
    expect(await status(`/v1${base}/meterusagerecords`)).toBe(403);
    expect(await status(`/v1${base}/resourceusagerecords`)).toBe(403);
    expect(await status(`/v1${base}/usagesummary`)).toBe(403);
    expect(await status(`/v1${base}/azureEntitlements`)).toBe(200);
    expect(await status(`/v1/customers/${customerId}/usagebudget`)).toBe(200);
  });
});

describe('Azure plan detail: paging', () => {
  test('when page sizes are set per collection, then meters, resources and entitlements come in pages whose union is the unpaged answer', async () => {
    const paged = await startSandbox({
      customers: 50,
      now: NOW,
      freezeClock: true,
      pageSizes: { meterUsageRecords: 2, resourceUsageRecords: 3, azureEntitlements: 1 },
    });
    try {
      const pagedToken = paged.issueAccessToken();
      // The plan with the most resources and several Azure subscriptions.
      const target = plans()
        .map((p) => ({ ...p, usage: sandbox.azurePlanUsage(p.customerId, p.planId) }))
        .filter((p) => p.usage.profile.entitlements.length >= 2)
        .sort((a, b) => b.usage.resources.length - a.usage.resources.length)[0];
      for (const [tail, size] of [
        ['meterusagerecords', 2],
        ['resourceusagerecords', 3],
        ['azureEntitlements', 1],
      ] as const) {
        const whole = await walk(sandbox, `${target.base}/${tail}`, token);
        const pages = await walk(paged, `${target.base}/${tail}`, pagedToken);
        expect(whole).toHaveLength(1);
        expect(pages.length).toBe(Math.ceil(items(whole).length / size));
        expect(pages.length).toBeGreaterThan(1);
        expect(items(pages)).toEqual(items(whole));
      }
    } finally {
      await paged.close();
    }
  });
});

describe('Azure plan detail: the budget', () => {
  test('when a budget is PATCHed, then later reads of the budget, the customer record and its summary carry it, percentUsed and the partner count included', async () => {
    const customer = [...sandbox.data.customers()].find(
      (c) =>
        c.kind === 'azurePlan' &&
        c.subscriptions.length > 0 &&
        sandbox.customerUsage(c.id).totalCost > 10n ** 18n,
    );
    if (!customer) throw new Error('no Azure-plan customer with usage');
    const before = await pcGet(sandbox, '/v1/usagesummary', { token });
    const wasOver = sandbox.customerUsage(customer.id).overBudget;

    // A budget of 0.5 is crossed by any customer that has spent a whole unit.
    const patched = await fetch(`${sandbox.baseUrl}/v1/customers/${customer.id}/usagebudget`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{"Amount": 0.50, "Attributes": {"ObjectType": "SpendingBudget"}}',
    });
    expect(patched.status).toBe(200);

    const budget = await pcGet(sandbox, `/v1/customers/${customer.id}/usagebudget`, { token });
    expect(rawNumbers(budget.text, 'amount')).toEqual(['0.5']);
    const [records] = await walk(sandbox, '/customers/usagerecords', token);
    const index = (records.body.items as { id: string }[]).findIndex((r) => r.id === customer.id);
    const record = records.body.items[index];
    expect(record.budget.amount).toBe(0.5);
    const usage = sandbox.customerUsage(customer.id);
    expect(rawNumbers(records.text, 'percentUsed')[index]).toBe(usage.percentUsed);
    expect(toUnits(usage.percentUsed, 2)).toBe(
      (usage.totalCost * 200n * 100n + 10n ** 18n / 2n) / 10n ** 18n,
    );
    const summary = await pcGet(sandbox, `/v1/customers/${customer.id}/usagesummary`, { token });
    expect(summary.body.budget.amount).toBe(0.5);
    const after = await pcGet(sandbox, '/v1/usagesummary', { token });
    expect(after.body.customersOverBudget).toBe(before.body.customersOverBudget + (wasOver ? 0 : 1));

    // Null removes the budget.
    await fetch(`${sandbox.baseUrl}/v1/customers/${customer.id}/usagebudget`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}` },
      body: '{"Amount": null, "Attributes": {"ObjectType": "SpendingBudget"}}',
    });
    expect(
      (await pcGet(sandbox, `/v1/customers/${customer.id}/usagebudget`, { token })).body.amount,
    ).toBeNull();
  });

  test.each([
    ['a negative amount', '{"Amount": -1}'],
    ['a string amount', '{"Amount": "100"}'],
    ['seven decimals', '{"Amount": 1.0000001}'],
    ['not JSON', 'Amount=100'],
  ])(
    'when a PATCH carries %s, then it is refused with 400 code 2000 and the budget is unchanged',
    async (_case, body) => {
      const customer = sandbox.data.customer(1);
      const before = await pcGet(sandbox, `/v1/customers/${customer.id}/usagebudget`, { token });
      const refused = await fetch(`${sandbox.baseUrl}/v1/customers/${customer.id}/usagebudget`, {
        method: 'PATCH',
        headers: { Authorization: `Bearer ${token}` },
        body,
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { code: number }).code).toBe(2000);
      expect((await pcGet(sandbox, `/v1/customers/${customer.id}/usagebudget`, { token })).text).toBe(
        before.text,
      );
    },
  );

  test('when a route is called with a method it lacks, then it answers 405', async () => {
    const customer = sandbox.data.customer(0);
    const response = await fetch(`${sandbox.baseUrl}/v1/customers/${customer.id}/usagebudget`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}` },
      body: '{"Amount": 1}',
    });
    expect(response.status).toBe(405);
  });
});
