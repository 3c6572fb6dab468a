import { USER_AGENT } from '../../src/version';
import { errorCode } from '../../src/domain/errors';
import { hasResourceBreakdown } from '../../src/domain/usage';
import { PartnerCenterError } from '../../src/partnerCenter/errors';
import { formatDecimal } from '../../dev/sandbox';
import { collect, rejectionOf, startHarness, type Harness } from './harness';

describe('Partner Center client: typed calls over HTTP', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ sandbox: { customers: 12, pageSize: 5 } });
  });
  afterAll(async () => {
    await h.close();
  });

  test('when customer usage records span three pages, then iteration follows links.next to the last customer', async () => {
    h.sandbox.counters.reset();

    const records = await collect(h.client.listCustomerUsageRecords({ correlationId: 'run-paging' }));

    const expected = Array.from(h.sandbox.data.customers(), (c) => c.id);
    expect(records.map((r) => r.customerId)).toEqual(expected);
    expect(h.sandbox.counters.snapshot().requests['GET /v1/customers/usagerecords']).toEqual({ '200': 3 });
    const pages = h.pcExchanges().filter((e) => e.headers['MS-CorrelationId'] === 'run-paging');
    expect(pages.map((e) => e.headers['MS-ContinuationToken'] !== undefined)).toEqual([false, true, true]);
  });

  test('when a consumer stops after the first item, then no further page is fetched', async () => {
    h.sandbox.counters.reset();

    for await (const record of h.client.listCustomerUsageRecords()) {
      expect(record.customerId).toBeDefined();
      break;
    }

    expect(h.sandbox.counters.snapshot().requests['GET /v1/customers/usagerecords']).toEqual({ '200': 1 });
  });

  test('when costs carry more digits than a double keeps, then every digit arrives as a decimal string', async () => {
    const records = await collect(h.client.listCustomerUsageRecords());

    for (const record of records) {
      const usage = h.sandbox.customerUsage(record.customerId);
      expect(record.totalCost).toBe(formatDecimal(usage.totalCost));
      expect(record.percentUsed).toBe(usage.percentUsed);
    }
    // The sandbox prices in 10^-18 units: the test is only meaningful if some cost exceeds a double.
    const long = records.find((r) => r.totalCost.replace(/[.-]/g, '').replace(/^0+/, '').length > 17);
    expect(long).toBeDefined();
    expect(String(Number(long?.totalCost))).not.toBe(long?.totalCost);
  });

  test('when legacy and Azure-plan customers are listed, then each carries its own currency form', async () => {
    const records = await collect(h.client.listCustomerUsageRecords());

    for (const record of records) {
      const customer = h.sandbox.data.findCustomer(record.customerId);
      if (customer?.kind === 'azurePlan') {
        expect(record).toMatchObject({ isUpgraded: true, currencyCode: customer.currencyCode });
        expect(record.currencyLocale).toBeUndefined();
      } else {
        expect(record).toMatchObject({
          isUpgraded: false,
          currencyLocale: customer?.currencyLocale,
          usdTotalCost: '0',
        });
      }
      expect(record.budget).toBe(customer?.budget === undefined ? undefined : String(customer.budget));
    }
  });

  test('when every customer summary is read, then all naming and budget variants parse to the same shape', async () => {
    const variants = new Set<string>();
    for (const customer of h.sandbox.data.customers()) {
      const summary = await h.client.getCustomerUsageSummary(customer.id.toUpperCase());
      if (customer.subscriptions.length === 0) {
        // Partner Center's 3000 "Customer does not have usage data." is a normal state.
        expect(summary).toBeUndefined();
        variants.add('no usage data');
        continue;
      }
      variants.add(
        `${customer.summaryNaming}/${customer.budgetKey}/${customer.budget === undefined ? 'no budget' : 'budget'}`,
      );
      expect(summary).toMatchObject({ customerId: customer.id, name: customer.name });
      expect(summary?.totalCost).toBe(formatDecimal(h.sandbox.customerUsage(customer.id).totalCost));
      // "ammount" examples write 300.000000: the digits are kept as sent.
      if (customer.budget !== undefined) expect(Number(summary?.budget)).toBe(customer.budget);
    }
    expect(variants.size).toBeGreaterThan(2);
  });

  test('when a customer subscriptions and resources are listed, then ids are lower-case and only legacy ones break down', async () => {
    const customer = Array.from(h.sandbox.data.customers()).find(
      (c) => c.kind === 'legacy' && c.subscriptions.some((s) => hasResourceBreakdown(s)),
    );
    if (!customer) throw new Error('sandbox seed has no legacy customer');

    const subscriptions = await collect(h.client.listSubscriptionUsageRecords(customer.id));
    expect(subscriptions.map((s) => s.subscriptionId)).toEqual(
      customer.subscriptions.map((s) => s.id.toLowerCase()),
    );

    const legacy = subscriptions.find((s) => hasResourceBreakdown(s));
    const resources = await collect(
      h.client.listResourceUsageRecords(customer.id, legacy?.subscriptionId ?? ''),
    );
    const profile = customer.subscriptions.find((s) => s.id === legacy?.subscriptionId);
    expect(resources).toHaveLength(profile?.resourceCount ?? -1);
    for (const resource of resources) {
      expect(resource.quantityUsed).toMatch(/^\d+(\.\d+)?$/);
      expect(resource.totalCost).toMatch(/^\d+(\.\d+)?$/);
    }
  });

  test('when the partner usage summary is read, then integers are numbers and the total is a decimal string', async () => {
    const summary = await h.client.getPartnerUsageSummary();

    expect(summary.id).toBe(h.sandbox.credentials.tenantId);
    expect(typeof summary.customersWithUsageBasedSubscription).toBe('number');
    expect(summary.totalCost).toMatch(/^\d+(\.\d+)?$/);
    expect(summary.currencyLocale).toBe('en-US');
  });

  test('when requests are sent, then each has a new MS-RequestId, the run MS-CorrelationId and the app User-Agent', async () => {
    const before = h.exchanges.length;

    await h.client.getPartnerUsageSummary({ correlationId: 'run-headers' });
    await collect(h.client.listCustomerUsageRecords({ correlationId: 'run-headers' }));

    const sent = h.exchanges.slice(before).filter((e) => e.url.includes('/v1/'));
    expect(sent.length).toBe(4);
    expect(new Set(sent.map((e) => e.headers['MS-RequestId'])).size).toBe(4);
    for (const exchange of sent) {
      expect(exchange.headers['MS-RequestId']).toMatch(/^[0-9a-f-]{36}$/);
      expect(exchange.headers['MS-CorrelationId']).toBe('run-headers');
      expect(exchange.headers['User-Agent']).toBe(USER_AGENT);
      expect(exchange.headers.Accept).toBe('application/json');
      expect(exchange.responseHeaders?.['ms-requestid']).toBe(exchange.headers['MS-RequestId']);
    }
  });

  test('when a customer does not exist, then PartnerCenterError carries status, code, description and both ids, without a retry', async () => {
    h.sandbox.counters.reset();
    const missing = 'ffffffff-0000-4000-8000-000000000000';

    const error = await rejectionOf(h.client.getCustomerUsageSummary(missing, { correlationId: 'run-404' }));

    expect(error).toBeInstanceOf(PartnerCenterError);
    const pcError = error as PartnerCenterError;
    expect(errorCode(error)).toBe('PartnerCenterHttp');
    expect(pcError).toMatchObject({ status: 404, pcCode: 60003, correlationId: 'run-404', attempts: 1 });
    expect(pcError.description).toContain('Tenant not found');
    const sent = h.pcExchanges().at(-1);
    expect(pcError.requestId).toBe(sent?.headers['MS-RequestId']);
    expect(pcError.message).toContain(pcError.requestId);
    expect(pcError.message).toContain('run-404');
    expect(h.sandbox.counters.snapshot().totalRequests).toBe(1);
  });

  test('when bodies come without the byte-order mark, then they parse the same', async () => {
    h.sandbox.setBom(false);
    try {
      const summary = await h.client.getPartnerUsageSummary();
      expect(summary.id).toBe(h.sandbox.credentials.tenantId);
    } finally {
      h.sandbox.setBom(true);
    }
  });
});
