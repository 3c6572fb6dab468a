import { errorCode } from '../../src/domain/errors';
import { PartnerCenterError } from '../../src/partnerCenter/errors';
import { formatDecimal, type Sandbox } from '../../dev/sandbox';
import { collect, rejectionOf, startHarness, type Harness } from './harness';

const NOW = '2026-03-15T12:00:00Z';

/** Every Azure plan of the sandbox's tenant. */
function plans(sandbox: Sandbox) {
  return [...sandbox.data.customers()].flatMap((c) =>
    c.kind === 'azurePlan' ? c.subscriptions.map((s) => ({ customerId: c.id, planId: s.id })) : [],
  );
}

function legacySubscription(sandbox: Sandbox) {
  const customer = [...sandbox.data.customers()].find(
    (c) => c.kind === 'legacy' && c.subscriptions.length > 0,
  );
  if (!customer) throw new Error('no legacy subscription');
  return { customerId: customer.id, subscriptionId: customer.subscriptions[0].id };
}

const total = (amounts: string[]) =>
  amounts.reduce((sum, a) => {
    const [whole, fraction = ''] = a.split('.');
    return sum + BigInt(whole + fraction.padEnd(22, '0'));
  }, 0n);

describe('Partner Center client: Azure-plan calls over HTTP', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ sandbox: { customers: 50, now: NOW, freezeClock: true } });
  });
  afterAll(() => h.close());

  test('when every Azure plan of a 50-customer tenant is read, then meters, resources and the summary arrive as exact decimal strings that add up to the plan record', async () => {
    const all = plans(h.sandbox);
    expect(all.length).toBeGreaterThan(10);
    for (const { customerId, planId } of all) {
      const record = (await collect(h.client.listSubscriptionUsageRecords(customerId))).find(
        (r) => r.subscriptionId === planId,
      );
      const meters = await collect(h.client.listMeterUsageRecords(customerId, planId));
      const resources = await collect(h.client.listPlanResourceUsageRecords(customerId, planId));
      const summary = await h.client.getSubscriptionUsageSummary(customerId, planId);
      const truth = h.sandbox.azurePlanUsage(customerId, planId);

      expect(meters.map((m) => [m.meterId, m.totalCost, m.usdTotalCost])).toEqual(
        truth.meters.map((m) => [m.meter.meterId, formatDecimal(m.totalCost), formatDecimal(m.usdTotalCost)]),
      );
      expect(
        resources.map((r) => [r.resourceUri, r.totalCost, r.entitlementId, r.resourceGroupName]),
      ).toEqual(
        truth.resources.map((r) => [
          r.resource.resourceUri,
          formatDecimal(r.totalCost),
          r.entitlement.id,
          r.resource.resourceGroup,
        ]),
      );
      if (!record || !summary) throw new Error(`plan ${planId} has no record or summary`);
      const expected = total([record.totalCost]);
      expect(total(meters.map((m) => m.totalCost))).toBe(expected);
      expect(total(resources.map((r) => r.totalCost))).toBe(expected);
      expect(total([summary.totalCost])).toBe(expected);
      expect(total(resources.map((r) => r.usdTotalCost ?? 'x'))).toBe(total([record.usdTotalCost ?? 'x']));
      expect(summary).toMatchObject({ subscriptionId: planId, currencyCode: record.currencyCode });
    }
  });

  test('when a plan’s Azure subscriptions are listed, then they are the entitlements its resources name', async () => {
    const { customerId, planId } = plans(h.sandbox)[0];

    const entitlements = await collect(h.client.listAzureEntitlements(customerId, planId));

    const truth = h.sandbox.azurePlanUsage(customerId, planId).profile.entitlements;
    expect(entitlements).toEqual(
      truth.map((e) => ({
        id: e.id,
        friendlyName: e.friendlyName,
        status: e.status,
        subscriptionId: planId,
      })),
    );
  });

  test('when an Azure-plan-only call names a legacy subscription, then PartnerCenterError 400/2000 comes after one attempt', async () => {
    const { customerId, subscriptionId } = legacySubscription(h.sandbox);

    for (const call of [
      () => collect(h.client.listMeterUsageRecords(customerId, subscriptionId)),
      () => collect(h.client.listPlanResourceUsageRecords(customerId, subscriptionId)),
      () => collect(h.client.listAzureEntitlements(customerId, subscriptionId)),
    ]) {
      const error = await rejectionOf(call());
      expect(error).toBeInstanceOf(PartnerCenterError);
      expect(error).toMatchObject({ status: 400, pcCode: 2000, attempts: 1 });
    }
    // The legacy subscription's own summary is served, with its locale.
    await expect(h.client.getSubscriptionUsageSummary(customerId, subscriptionId)).resolves.toMatchObject({
      subscriptionId: subscriptionId.toLowerCase(),
      currencyLocale: expect.any(String),
    });
  });

  test('when a budget is set, then the PATCH carries the documented PascalCase body with the exact digits and later reads return it', async () => {
    const customer = [...h.sandbox.data.customers()].find(
      (c) => c.kind === 'azurePlan' && c.subscriptions.length,
    );
    if (!customer) throw new Error('no Azure-plan customer');
    const before = h.exchanges.length;

    const answer = await h.client.setUsageBudget(customer.id, '1234.567891', { correlationId: 'run-budget' });

    expect(answer).toEqual({ amount: '1234.567891' });
    const patch = h.exchanges.slice(before).find((e) => e.method === 'PATCH');
    expect(patch?.body).toBe('{"Amount":1234.567891,"Attributes":{"ObjectType":"SpendingBudget"}}');
    expect(patch?.headers['Content-Type']).toBe('application/json');
    expect(patch?.headers['MS-CorrelationId']).toBe('run-budget');
    await expect(h.client.getUsageBudget(customer.id)).resolves.toEqual({ amount: '1234.567891' });
    const record = (await collect(h.client.listCustomerUsageRecords())).find(
      (r) => r.customerId === customer.id,
    );
    expect(record).toMatchObject({
      budget: '1234.567891',
      percentUsed: h.sandbox.customerUsage(customer.id).percentUsed,
    });

    await expect(h.client.setUsageBudget(customer.id, null)).resolves.toEqual({});
    await expect(h.client.getUsageBudget(customer.id)).resolves.toEqual({});
  });

  test.each(['-1', '1e3', '12,50', ' 100', '', '0x10'])(
    'when the amount is %p, then InvalidBudgetAmountError comes before any request',
    async (amount) => {
      const before = h.exchanges.length;

      const error = await rejectionOf(h.client.setUsageBudget(h.sandbox.data.customer(0).id, amount));

      expect(errorCode(error)).toBe('InvalidBudgetAmount');
      expect(h.exchanges.length).toBe(before);
    },
  );
});

describe('Partner Center client: Azure-plan paging and retries', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('when the sandbox pages meters, resources and entitlements, then the client follows links.next to the last item', async () => {
    h = await startHarness({
      sandbox: {
        customers: 50,
        now: NOW,
        freezeClock: true,
        pageSizes: { meterUsageRecords: 2, resourceUsageRecords: 5, azureEntitlements: 1 },
      },
    });
    const sandbox = h.sandbox;
    const target = plans(sandbox)
      .map((p) => ({ ...p, truth: sandbox.azurePlanUsage(p.customerId, p.planId) }))
      .filter((p) => p.truth.profile.entitlements.length >= 2)
      .sort((a, b) => b.truth.resources.length - a.truth.resources.length)[0];
    const { customerId, planId, truth } = target;
    sandbox.counters.reset();

    const meters = await collect(
      h.client.listMeterUsageRecords(customerId, planId, { correlationId: 'run-pages' }),
    );
    const resources = await collect(h.client.listPlanResourceUsageRecords(customerId, planId));
    const entitlements = await collect(h.client.listAzureEntitlements(customerId, planId));

    expect(meters.map((m) => m.meterId)).toEqual(truth.meters.map((m) => m.meter.meterId));
    expect(resources.map((r) => r.resourceUri)).toEqual(truth.resources.map((r) => r.resource.resourceUri));
    expect(entitlements.map((e) => e.id)).toEqual(truth.profile.entitlements.map((e) => e.id));
    const requests = sandbox.counters.snapshot().requests;
    const route = (tail: string) =>
      requests[`GET /v1/customers/{customerId}/subscriptions/{subscriptionId}/${tail}`];
    expect(route('meterusagerecords')).toEqual({ '200': Math.ceil(truth.meters.length / 2) });
    expect(route('resourceusagerecords')).toEqual({ '200': Math.ceil(truth.resources.length / 5) });
    expect(route('azureEntitlements')).toEqual({ '200': truth.profile.entitlements.length });
    expect(truth.resources.length).toBeGreaterThan(5);
    const pages = h.pcExchanges().filter((e) => e.headers['MS-CorrelationId'] === 'run-pages');
    expect(pages.slice(1).every((e) => e.headers['MS-ContinuationToken'] !== undefined)).toBe(true);
  });

  test('when the budget PATCH meets 429 with Retry-After, then it waits that long, retries and the budget is set once', async () => {
    h = await startHarness({ sandbox: { customers: 12 }, retry: { baseDelayMs: 100 } });
    const harness = h;
    const customer = h.sandbox.data.customer(0);
    await h.client.getUsageBudget(customer.id); // token in hand, so nothing else is timed
    // One call per second for this customer; 60 reads drain its bucket while the clock stands still.
    h.sandbox.clock.freeze();
    h.sandbox.limits.set({ customerPerMinute: 60, countRejected: false });
    await Promise.all(Array.from({ length: 60 }, () => harness.client.getUsageBudget(customer.id)));
    h.sandbox.clock.resume();
    h.sandbox.counters.reset();
    const before = h.pcExchanges().length;

    await expect(h.client.setUsageBudget(customer.id, '42')).resolves.toEqual({ amount: '42' });

    const sent = h.pcExchanges().slice(before);
    const throttled = sent.find((e) => e.status === 429);
    if (!throttled?.answeredAt) throw new Error('the sandbox did not throttle');
    const retry = sent[sent.indexOf(throttled) + 1];
    expect(retry.method).toBe('PATCH');
    expect(retry.sentAt - throttled.answeredAt).toBeGreaterThanOrEqual(
      Number(throttled.responseHeaders?.['retry-after']) * 1000,
    );
    expect(
      h.sandbox.counters.snapshot().requests['PATCH /v1/customers/{customerId}/usagebudget'],
    ).toMatchObject({
      '200': 1,
    });
    h.sandbox.limits.set({ customerPerMinute: 0 });
    await expect(h.client.getUsageBudget(customer.id)).resolves.toEqual({ amount: '42' });
  });

  test('when the budget PATCH meets a 503, then it is retried (an absolute amount is safe to send twice) and succeeds', async () => {
    h = await startHarness({
      sandbox: { customers: 12, faults: { status503: 1 } },
      onLog: (entry) => {
        if (entry.line.includes('failed; retrying')) h?.sandbox.faults.clear();
      },
    });

    await expect(h.client.setUsageBudget(h.sandbox.data.customer(2).id, '99.95')).resolves.toEqual({
      amount: '99.95',
    });

    expect(h.sandbox.counters.snapshot().requests['PATCH /v1/customers/{customerId}/usagebudget']).toEqual({
      '503': 1,
      '200': 1,
    });
  });

  test('when meter records meet 500s on every attempt, then retries stop at the limit with the last PartnerCenterError', async () => {
    h = await startHarness({
      sandbox: { customers: 30, faults: { status500: 1 } },
      settings: { maxRetries: 2 },
    });
    const { customerId, planId } = plans(h.sandbox)[0];

    const error = await rejectionOf(collect(h.client.listMeterUsageRecords(customerId, planId)));

    expect(error).toMatchObject({ status: 500, attempts: 3 });
  });
});
