import { createCustomerHistoryHandler } from '../../src/api/handlers/customerHistory';
import { createCustomersHandler } from '../../src/api/handlers/customers';
import { createCustomerSubscriptionsHandler } from '../../src/api/handlers/customerSubscriptions';
import { createCustomerUsageSummaryHandler } from '../../src/api/handlers/customerUsageSummary';
import { createPartnerUsageSummaryHandler } from '../../src/api/handlers/partnerUsageSummary';
import { createSubscriptionHistoryHandler } from '../../src/api/handlers/subscriptionHistory';
import { createSubscriptionResourcesHandler } from '../../src/api/handlers/subscriptionResources';
import { azuriteBackend, memoryBackend, type Backend } from './support/backends';
import { apiSettings, clock, customerId, SNAPSHOT, subscriptionId } from './support/fixtures';
import type { MemoryState } from './support/memoryUsageStore';
import { call, type ErrorAnswer } from './support/http';

// The same scenarios over the real Table Storage adapter on Azurite and over the in-memory
// stand-in (test/api/support/memoryUsageStore.ts), which the property test uses for speed.
const backends: Array<[string, (state?: MemoryState) => Promise<Backend>]> = [
  ['Azurite', (state) => azuriteBackend(state)],
  ['in-memory', async (state) => memoryBackend(state)],
];

describe.each(backends)('over the %s store', (_name, makeBackend) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await makeBackend();
  }, 60_000);

  function handlers(reader: Backend['store'], now: () => Date = clock) {
    const deps = { reader, settings: apiSettings, clock: now };
    return {
      partner: createPartnerUsageSummaryHandler(deps),
      customers: createCustomersHandler(deps),
      summary: createCustomerUsageSummaryHandler(deps),
      subscriptions: createCustomerSubscriptionsHandler(deps),
      resources: createSubscriptionResourcesHandler(deps),
      customerHistory: createCustomerHistoryHandler(deps),
      subscriptionHistory: createSubscriptionHistoryHandler(deps),
    };
  }

  function setup() {
    return handlers(backend.store);
  }

  const c1 = customerId(1);
  const s1 = subscriptionId(1, 1);

  describe('envelope and snapshot facts', () => {
    test('when the partner summary is read, then 200 with snapshot facts, exact amounts and an ETag', async () => {
      const { partner } = setup();
      const before = backend.requests();
      const res = await call(partner, '/api/v1/partner/usage-summary');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      // A strong entity-tag (RFC 9110: quoted, no W/ prefix, etagc characters), stable for the same
      // bytes: what a cache needs, whatever its length or hash.
      expect(res.headers.get('etag')).toMatch(/^"[\x21\x23-\x7e]+"$/);
      expect(res.json()).toEqual({
        snapshot: {
          runId: SNAPSHOT.runId,
          takenAt: '2025-05-20T06:00:05.000Z',
          billingPeriod: { start: '2025-05-01T00:00:00.000Z', end: '2025-05-31T23:59:59.000Z' },
          stale: false,
        },
        data: {
          partnerId: 'partner-tenant-1',
          name: 'Fabrikam CSP',
          customersOverBudget: 1,
          customersTrendingOver: 2,
          customersWithUsageBasedSubscription: 6,
          billingPeriod: { start: '2025-05-01T00:00:00.000Z', end: '2025-05-31T23:59:59.000Z' },
          totalCost: '1234.5678901234567890123',
          currencyCode: 'USD',
          currencyLocale: null,
          lastModifiedDate: null,
          // Every listed customer's record (the not-snapshotted 7th too), per currency: Azure plans
          // in USD (2, 4, 6), legacy by locale (1, 3, 5, 7), apart from Partner Center's totalCost.
          customerTotals: {
            byCurrency: [
              {
                currencyCode: 'USD',
                currencyLocale: null,
                totalCost: '12.75',
                customers: 3,
                azurePlanCustomers: 3,
              },
              {
                currencyCode: null,
                currencyLocale: 'fr-FR',
                totalCost: '136.3182999999995904716',
                customers: 4,
                azurePlanCustomers: 0,
              },
            ],
            usd: { totalCost: '12.75', customers: 3 },
            customers: 7,
            customersWithoutTotal: 0,
          },
        },
      });
      expect(res.headers.get('x-snapshot-taken-at')).toBe('2025-05-20T06:00:05.000Z');
      expect(backend.requests() - before).toBe(1);
      expect((await call(partner, '/api/v1/partner/usage-summary')).headers.get('etag')).toBe(
        res.headers.get('etag'),
      );
    });

    test('when no snapshot has completed, then 404 NoSnapshotYet on the partner summary and the customer list', async () => {
      const { partner, customers } = handlers((await makeBackend({ customers: [], runs: [] })).store);
      for (const [handler, path] of [
        [partner, '/api/v1/partner/usage-summary'],
        [customers, '/api/v1/customers'],
      ] as const) {
        const res = await call(handler, path);
        expect(res.status).toBe(404);
        expect(res.json<ErrorAnswer>().error.code).toBe('NoSnapshotYet');
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
    });

    test('when the snapshot is older than STALE_AFTER_MINUTES, then stale: true', async () => {
      const later = new Date(Date.parse(SNAPSHOT.takenAt) + 12 * 3_600_000 + 1);
      const res = await call(handlers(backend.store, () => later).partner, '/api/v1/partner/usage-summary');
      expect(res.json<{ snapshot: { stale: boolean } }>().snapshot.stale).toBe(true);
      expect(res.headers.get('x-snapshot-stale')).toBe('true');
    });

    test('when the schedule runs every 6 h and it is 12:00, then Cache-Control is private with the 300 s cap', async () => {
      const res = await call(setup().partner, '/api/v1/partner/usage-summary');
      expect(res.headers.get('cache-control')).toBe('private, max-age=300');
      expect(res.headers.get('vary')).toBe('Accept');
    });
  });

  describe('conditional requests', () => {
    test('when If-None-Match carries the ETag (plain, weak, in a list, or *), then 304 without a body', async () => {
      const { customers } = setup();
      const first = await call(customers, '/api/v1/customers');
      const etag = first.headers.get('etag') as string;
      for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
        const res = await call(customers, '/api/v1/customers', { headers: { 'If-None-Match': inm } });
        expect(res.status).toBe(304);
        expect(res.text).toBe('');
        expect(res.headers.get('etag')).toBe(etag);
        expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
      }
    });

    test('when If-None-Match carries an old ETag, then 200 with the new body', async () => {
      const res = await call(setup().customers, '/api/v1/customers', {
        headers: { 'If-None-Match': '"stale"' },
      });
      expect(res.status).toBe(200);
    });

    test('when the same data is asked as JSON and as CSV, then the ETags differ', async () => {
      const { customers } = setup();
      const json = await call(customers, '/api/v1/customers');
      const csv = await call(customers, '/api/v1/customers?format=csv');
      expect(json.headers.get('etag')).not.toBe(csv.headers.get('etag'));
    });
  });

  describe('GET /api/v1/customers', () => {
    test('when listed with limit=2, then pages follow by continuationToken until null, with each customer once', async () => {
      const { customers } = setup();
      const before = backend.requests();
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const q: string = token ? `&continuationToken=${encodeURIComponent(token)}` : '';
        const res = await call(customers, `/api/v1/customers?limit=2${q}`);
        expect(res.status).toBe(200);
        const body = res.json<{ data: Array<{ customerId: string }>; continuationToken: string | null }>();
        seen.push(...body.data.map((c) => c.customerId));
        if (body.continuationToken) {
          expect(res.headers.get('link')).toBe(
            `</api/v1/customers?limit=2&continuationToken=${body.continuationToken}>; rel="next"`,
          );
        }
        token = body.continuationToken;
        pages++;
      } while (token);
      // Every customer Partner Center listed, including the one not snapshotted yet.
      expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7].map(customerId));
      expect(pages).toBe(4);
      expect(backend.requests() - before).toBeLessThanOrEqual(pages + 1);
    });

    test('when filtered by isUpgraded=false and currency=FR-fr, then only legacy fr-FR customers', async () => {
      const res = await call(setup().customers, '/api/v1/customers?isUpgraded=false&currency=FR-fr');
      const body = res.json<{ data: Array<{ customerId: string; isUpgraded: boolean }> }>();
      expect(body.data.map((c) => c.customerId)).toEqual([1, 3, 5, 7].map(customerId));
    });

    test('when filtered by overBudget=true, then the over-budget customer with its exact amounts', async () => {
      const res = await call(setup().customers, '/api/v1/customers?overBudget=true');
      expect(res.json<{ data: unknown[] }>().data).toEqual([
        {
          customerId: c1,
          name: 'Contoso "Ltd", Paris',
          isUpgraded: false,
          budget: '100',
          customerSpendingBudget: null,
          percentUsed: '120.57',
          totalCost: '120.5682999999995904716',
          currencyCode: null,
          currencyLocale: 'fr-FR',
          usdTotalCost: null,
          lastModifiedDate: '2025-05-20T05:00:00.000Z',
        },
      ]);
    });

    test('when a token from one filter is sent with another, then 400 InvalidContinuationToken', async () => {
      const { customers } = setup();
      const first = await call(customers, '/api/v1/customers?limit=1&isUpgraded=true');
      const token = first.json<{ continuationToken: string }>().continuationToken;
      const res = await call(
        customers,
        `/api/v1/customers?limit=1&isUpgraded=false&continuationToken=${encodeURIComponent(token)}`,
      );
      expect(res.status).toBe(400);
      expect(res.json<ErrorAnswer>().error.code).toBe('InvalidContinuationToken');
      // Page size is not part of the query: the same token with another limit is fine.
      const other = await call(
        customers,
        `/api/v1/customers?limit=5&isUpgraded=true&continuationToken=${encodeURIComponent(token)}`,
      );
      expect(other.status).toBe(200);
    });

    test.each([
      ['limit=0', 'InvalidQuery'],
      ['limit=1001', 'InvalidQuery'],
      ['limit=-1', 'InvalidQuery'],
      ['limit=1e3', 'InvalidQuery'],
      ['overBudget=yes', 'InvalidQuery'],
      ['isUpgraded=TRUE', 'InvalidQuery'],
      ["currency=EUR'%20or%201%20eq%201", 'InvalidQuery'],
      ['overbudget=true', 'InvalidQuery'],
      ['limit=1&limit=2', 'InvalidQuery'],
      ['format=xml', 'InvalidQuery'],
      ['continuationToken=abc', 'InvalidContinuationToken'],
      ['continuationToken=eyJ2IjoxfQ.AAAA', 'InvalidContinuationToken'],
    ])('when the query is %s, then 400 %s', async (query, code) => {
      const res = await call(setup().customers, `/api/v1/customers?${query}`);
      expect(res.status).toBe(400);
      expect(res.json<ErrorAnswer>().error.code).toBe(code);
    });

    test('when the host key comes as ?code=, then it is not an unknown parameter', async () => {
      expect((await call(setup().customers, '/api/v1/customers?code=some-key')).status).toBe(200);
    });

    test('when Accept is text/csv, then RFC 4180 CSV with exact amounts and snapshot headers', async () => {
      const res = await call(setup().customers, '/api/v1/customers?limit=2', {
        headers: { Accept: 'text/csv' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(res.headers.get('content-disposition')).toBe('attachment; filename="customers.csv"');
      expect(res.headers.get('x-snapshot-run-id')).toBe(SNAPSHOT.runId);
      expect(res.headers.get('x-continuation-token')).toBeTruthy();
      expect(res.text.split('\r\n')).toEqual([
        'customerId,name,isUpgraded,budget,customerSpendingBudget,percentUsed,totalCost,usdTotalCost,currencyCode,currencyLocale,lastModifiedDate',
        `${c1},"Contoso ""Ltd"", Paris",false,100,,120.57,120.5682999999995904716,,,fr-FR,2025-05-20T05:00:00.000Z`,
        `${customerId(2)},Customer 2,true,1000.00,,,2.25,2.25,USD,,2025-05-20T05:00:00.000Z`,
        '',
      ]);
    });

    test('when Accept prefers CSV by q-value or format=json overrides it, then the stated format wins', async () => {
      const { customers } = setup();
      const preferCsv = await call(customers, '/api/v1/customers', {
        headers: { Accept: 'application/json;q=0.5, text/csv' },
      });
      expect(preferCsv.headers.get('content-type')).toMatch(/^text\/csv/);
      const forced = await call(customers, '/api/v1/customers?format=json', {
        headers: { Accept: 'text/csv' },
      });
      expect(forced.headers.get('content-type')).toMatch(/^application\/json/);
      const browser = await call(customers, '/api/v1/customers', {
        headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
      });
      expect(browser.headers.get('content-type')).toMatch(/^application\/json/);
    });

    test('when Accept admits neither JSON nor CSV, then 406 NotAcceptable as JSON', async () => {
      const res = await call(setup().customers, '/api/v1/customers', {
        headers: { Accept: 'application/xml' },
      });
      expect(res.status).toBe(406);
      expect(res.json<ErrorAnswer>().error.code).toBe('NotAcceptable');
    });
  });

  describe('customer routes', () => {
    test('when the customer id is upper-case, then it is found (ids are case-insensitive) with one read', async () => {
      const { summary } = setup();
      const before = backend.requests();
      const res = await call(summary, `/api/v1/customers/${c1.toUpperCase()}/usage-summary`, {
        params: { customerId: c1.toUpperCase() },
      });
      expect(res.status).toBe(200);
      const body = res.json<{ data: { customerId: string; totalCost: string; currencyLocale: string } }>();
      expect(body.data).toMatchObject({
        customerId: c1,
        totalCost: '120.5682999999995904716',
        currencyLocale: 'fr-FR',
      });
      expect(backend.requests() - before).toBe(1);
    });

    test('when Partner Center reported no usage for the customer, then 200 with data: null', async () => {
      const res = await call(setup().summary, '/x', { params: { customerId: customerId(5) } });
      expect(res.status).toBe(200);
      expect(res.json<{ data: unknown }>().data).toBeNull();
    });

    test.each([
      ['not-a-guid'],
      ['{00000000-0000-4000-8000-000000000001}'],
      ['00000000000040008000000000000001'],
      ["00000000-0000-4000-8000-000000000001' or 1 eq 1"],
      ['00000000-0000-4000-8000-00000000000g'],
    ])('when the customer id is %s, then 400 InvalidCustomerId', async (id) => {
      const { summary } = setup();
      const before = backend.requests();
      const res = await call(summary, '/x', { params: { customerId: id } });
      expect(res.status).toBe(400);
      expect(res.json<ErrorAnswer>().error.code).toBe('InvalidCustomerId');
      expect(backend.requests()).toBe(before);
    });

    test('when the customer is unknown, then 404 CustomerNotFound; when known but not snapshotted, then 404 CustomerNotSnapshotted', async () => {
      const { summary, subscriptions } = setup();
      const unknown = await call(summary, '/x', { params: { customerId: customerId(999) } });
      expect(unknown.status).toBe(404);
      expect(unknown.json<ErrorAnswer>().error.code).toBe('CustomerNotFound');
      const pending = await call(subscriptions, '/x', { params: { customerId: customerId(7) } });
      expect(pending.status).toBe(404);
      expect(pending.json<ErrorAnswer>().error.code).toBe('CustomerNotSnapshotted');
    });

    test('when a customer has subscriptions, then each latest record with hasResourceBreakdown and USD where given', async () => {
      const res = await call(setup().subscriptions, '/x', { params: { customerId: c1 } });
      const body = res.json<{ data: Array<Record<string, unknown>> }>();
      expect(body.data).toEqual([
        expect.objectContaining({
          subscriptionId: s1,
          offerId: 'MS-AZR-0145P',
          hasResourceBreakdown: true,
          totalCost: '-12.50',
          usdTotalCost: null,
        }),
        expect.objectContaining({
          subscriptionId: subscriptionId(1, 2),
          hasResourceBreakdown: false,
          totalCost: '5.00',
          usdTotalCost: '5.43',
          currencyCode: 'EUR',
          partnerOnRecord: 'None',
        }),
      ]);
    });

    test('when a subscription query string is given, then 400: the route takes none', async () => {
      const res = await call(setup().subscriptions, '/x?limit=5', { params: { customerId: c1 } });
      expect(res.status).toBe(400);
      expect(res.json<ErrorAnswer>().error.message).toMatch(/takes none/);
    });
  });

  describe('subscription resources', () => {
    test('when a legacy subscription is read, then its resources with exact quantities', async () => {
      const res = await call(setup().resources, '/x', { params: { customerId: c1, subscriptionId: s1 } });
      const body = res.json<{
        data: { hasResourceBreakdown: boolean; resources: Array<Record<string, unknown>> };
      }>();
      expect(body.data.hasResourceBreakdown).toBe(true);
      expect(body.data.resources[0]).toEqual({
        resourceId: 'vm-1',
        name: 'web-01',
        category: 'Virtual Machines',
        subcategory: 'D2 v3',
        quantityUsed: '744.000000001',
        unit: 'Hours',
        totalCost: '70.0000000000000000001',
        currencyCode: null,
        currencyLocale: 'fr-FR',
        kind: 'legacy',
        resourceUri: null,
        resourceType: null,
        azureSubscriptionId: null,
        azureSubscriptionName: null,
        resourceGroup: null,
        usdTotalCost: null,
        lastModifiedDate: null,
      });
    });

    test('when an Azure plan subscription is read, then 200 with hasResourceBreakdown false and no resources', async () => {
      const res = await call(setup().resources, '/x', {
        params: { customerId: customerId(3), subscriptionId: subscriptionId(3, 2) },
      });
      expect(res.status).toBe(200);
      expect(
        res.json<{ data: { hasResourceBreakdown: boolean; resources: unknown[] } }>().data,
      ).toMatchObject({
        hasResourceBreakdown: false,
        resources: [],
      });
    });

    test('when resources are asked as CSV, then formula-looking names are defused and amounts kept', async () => {
      const res = await call(setup().resources, '/x?format=csv', {
        params: { customerId: c1, subscriptionId: s1 },
      });
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="resources-${s1}.csv"`);
      expect(res.text.split('\r\n')).toEqual([
        'subscriptionId,resourceId,name,category,subcategory,quantityUsed,unit,totalCost,currencyCode,currencyLocale,' +
          'kind,resourceUri,resourceType,azureSubscriptionId,azureSubscriptionName,resourceGroup,usdTotalCost,lastModifiedDate',
        `${s1},vm-1,web-01,Virtual Machines,D2 v3,744.000000001,Hours,70.0000000000000000001,,fr-FR,legacy,,,,,,,`,
        `${s1},st-1,"'=HYPERLINK(""http://evil"")",Storage,LRS,12,GB/Month,-0.5,,fr-FR,legacy,,,,,,,`,
        '',
      ]);
    });

    test('when the subscription or its customer is unknown, or not snapshotted, then 404 with the code that says which', async () => {
      const { resources } = setup();
      const unknown = await call(resources, '/x', {
        params: { customerId: c1, subscriptionId: subscriptionId(1, 9) },
      });
      expect(unknown.json<ErrorAnswer>().error.code).toBe('SubscriptionNotFound');
      const pending = await call(resources, '/x', {
        params: { customerId: customerId(7), subscriptionId: subscriptionId(7, 1) },
      });
      expect(pending.json<ErrorAnswer>().error.code).toBe('SubscriptionNotSnapshotted');
      const unknownCustomer = await call(resources, '/x', {
        params: { customerId: customerId(99), subscriptionId: subscriptionId(99, 1) },
      });
      expect(unknownCustomer.json<ErrorAnswer>().error.code).toBe('CustomerNotFound');
      const badSub = await call(resources, '/x', { params: { customerId: c1, subscriptionId: 'nope' } });
      expect(badSub.json<ErrorAnswer>().error.code).toBe('InvalidSubscriptionId');
    });
  });

  describe('history', () => {
    test('when history is read with from/to, then totals per snapshot inside the range, newest first', async () => {
      const res = await call(setup().customerHistory, '/x?from=2025-05-17&to=2025-05-19', {
        params: { customerId: c1 },
      });
      const body = res.json<{
        snapshot: { takenAt: string };
        data: Array<{ takenAt: string; totalCost: string }>;
        continuationToken: null;
      }>();
      expect(body.data.map((p) => [p.takenAt, p.totalCost])).toEqual([
        ['2025-05-19T06:00:05.000Z', '99.125'],
        ['2025-05-18T06:00:05.000Z', '98.125'],
        ['2025-05-17T06:00:05.000Z', '97.125'],
      ]);
      expect(body.snapshot.takenAt).toBe('2025-05-19T06:00:05.000Z');
      expect(body.continuationToken).toBeNull();
    });

    test("when one customer's history token is used for another customer, then 400 InvalidContinuationToken", async () => {
      const { customerHistory } = setup();
      const first = await call(customerHistory, '/x?limit=2', { params: { customerId: c1 } });
      const token = first.json<{ continuationToken: string }>().continuationToken;
      expect(token).toEqual(expect.any(String));
      const own = await call(customerHistory, `/x?limit=2&continuationToken=${encodeURIComponent(token)}`, {
        params: { customerId: c1 },
      });
      expect(own.status).toBe(200);
      expect(own.json<{ data: Array<{ totalCost: string }> }>().data.map((p) => p.totalCost)).toEqual([
        '98.125',
        '97.125',
      ]);
      const other = await call(customerHistory, `/x?limit=2&continuationToken=${encodeURIComponent(token)}`, {
        params: { customerId: customerId(3) },
      });
      expect(other.status).toBe(400);
      expect(other.json<ErrorAnswer>().error.code).toBe('InvalidContinuationToken');
    });

    test('when a customer history token is sent to the subscription history, then 400', async () => {
      const { customerHistory, subscriptionHistory } = setup();
      const first = await call(customerHistory, '/x?limit=1', { params: { customerId: c1 } });
      const token = first.json<{ continuationToken: string }>().continuationToken;
      const res = await call(
        subscriptionHistory,
        `/x?limit=1&continuationToken=${encodeURIComponent(token)}`,
        {
          params: { customerId: c1, subscriptionId: s1 },
        },
      );
      expect(res.json<ErrorAnswer>().error.code).toBe('InvalidContinuationToken');
    });

    test.each([
      ['from=2025-05-20&to=2025-05-01'],
      ['from=2025-02-30'],
      ['from=20250501'],
      ['to=2025-05-01T25:00:00Z'],
      ['to=2025-05-01T10:00:00'],
      ['from=yesterday'],
    ])('when the range is %s, then 400 InvalidQuery', async (query) => {
      const res = await call(setup().customerHistory, `/x?${query}`, { params: { customerId: c1 } });
      expect(res.status).toBe(400);
      expect(res.json<ErrorAnswer>().error.code).toBe('InvalidQuery');
    });

    test('when the range holds no snapshot, then 200 with an empty page and snapshot null', async () => {
      const res = await call(
        setup().subscriptionHistory,
        '/x?from=2024-01-01T00:00:00%2B01:00&to=2024-02-01',
        {
          params: { customerId: c1, subscriptionId: s1 },
        },
      );
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ snapshot: null, data: [], continuationToken: null });
    });

    test('when the subscription history names an unknown customer or a subscription it never had, then 404 saying which', async () => {
      const { subscriptionHistory } = setup();
      const unknownCustomer = await call(subscriptionHistory, '/x', {
        params: { customerId: customerId(99), subscriptionId: s1 },
      });
      expect(unknownCustomer.status).toBe(404);
      expect(unknownCustomer.json<ErrorAnswer>().error.code).toBe('CustomerNotFound');
      const neverHad = await call(subscriptionHistory, '/x', {
        params: { customerId: c1, subscriptionId: subscriptionId(1, 9) },
      });
      expect(neverHad.status).toBe(404);
      expect(neverHad.json<ErrorAnswer>().error.code).toBe('SubscriptionNotFound');
    });
  });
});
