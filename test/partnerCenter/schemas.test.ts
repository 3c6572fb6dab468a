import { errorCode } from '../../src/domain/errors';
import { ResponseShapeError } from '../../src/partnerCenter/errors';
import { parseJson } from '../../src/partnerCenter/json';
import { nextPageRequest } from '../../src/partnerCenter/paging';
import { backoffMs, parseRetryAfter, retryDelayMs } from '../../src/partnerCenter/retry';
import {
  customerMonthlyUsageRecordSchema,
  customerUsageSummarySchema,
  subscriptionMonthlyUsageRecordSchema,
  validate,
} from '../../src/partnerCenter/schemas';

// Literal bodies in the shape of the documented examples (see /work/shared/partner-center.md).
const parse = <T>(schema: Parameters<typeof validate>[0], text: string) =>
  validate(schema, parseJson(text)) as T;

describe('Partner Center resources: documented variants', () => {
  test('when an Azure-plan summary has only resourceId, currencyCode and 22-digit costs, then every digit survives', () => {
    const summary = parse(
      customerUsageSummarySchema,
      '\uFEFF{"budget":{"amount":100,"attributes":{"objectType":"SpendingBudget"}},' +
        '"resourceId":"4B2F4D3A-1C2B-4D5E-8F90-A1B2C3D4E5F6","resourceName":"Contoso",' +
        '"billingStartDate":"2019-08-01T00:00:00-07:00","billingEndDate":"2019-08-31T00:00:00-07:00",' +
        '"totalCost":120.5682999999995904716,"currencyCode":"GBP","usdTotalCost":33.280000000000001044,' +
        '"lastModifiedDate":"2019-08-01T23:00:16.57+00:00","links":{"self":{"uri":"/customers/x/usagesummary","method":"GET","headers":[]}},' +
        '"attributes":{"objectType":"CustomerUsageSummary"},"someFutureField":[1,2,3]}',
    );

    expect(summary).toEqual({
      customerId: '4b2f4d3a-1c2b-4d5e-8f90-a1b2c3d4e5f6',
      name: 'Contoso',
      budget: '100',
      billingStartDate: '2019-08-01T00:00:00-07:00',
      billingEndDate: '2019-08-31T00:00:00-07:00',
      totalCost: '120.5682999999995904716',
      currencyCode: 'GBP',
      usdTotalCost: '33.280000000000001044',
      lastModifiedDate: '2019-08-01T23:00:16.57+00:00',
    });
  });

  test('when a legacy summary spells the budget "ammount", then it is the budget', () => {
    const summary = parse<{ budget?: string; currencyLocale?: string; customerId: string }>(
      customerUsageSummarySchema,
      '{"budget":{"ammount":300.000000},"id":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","name":"Fabrikam",' +
        '"billingStartDate":"2019-08-01T00:00:00+00:00","billingEndDate":"2019-09-01T00:00:00+00:00",' +
        '"totalCost":0,"currencyLocale":"fr-FR"}',
    );

    expect(summary).toMatchObject({ budget: '300.000000', currencyLocale: 'fr-FR', totalCost: '0' });
  });

  test('when a budget has no amount, then the record has no budget', () => {
    const record = parse<{ budget?: string; customerSpendingBudget?: string }>(
      customerMonthlyUsageRecordSchema,
      '{"budget":{"attributes":{"objectType":"SpendingBudget"}},"percentUsed":0,"isUpgraded":true,' +
        '"id":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","totalCost":12.5,"usdTotalCost":15.1,"currencyCode":"EUR"}',
    );

    expect(record.budget).toBeUndefined();
    expect(record.customerSpendingBudget).toBeUndefined();
  });

  test('when partnerOnRecord is null, then it is left out', () => {
    const record = parse<Record<string, unknown>>(
      subscriptionMonthlyUsageRecordSchema,
      '{"status":"active","offerId":"DZH318Z0BPS6:0001:DZH318Z0BML6","partnerOnRecord":null,' +
        '"resourceId":"6A2F4D3A-1C2B-4D5E-8F90-A1B2C3D4E5F6","totalCost":1E-7,"currencyCode":"USD"}',
    );

    expect(record).not.toHaveProperty('partnerOnRecord');
    expect(record.subscriptionId).toBe('6a2f4d3a-1c2b-4d5e-8f90-a1b2c3d4e5f6');
    expect(record.totalCost).toBe('1E-7');
  });

  test('when an id is not a GUID, then ResponseShapeError names id', () => {
    const error = (() => {
      try {
        parse(customerMonthlyUsageRecordSchema, '{"id":"../../etc","totalCost":1}');
      } catch (e) {
        return e;
      }
    })();

    expect(errorCode(error)).toBe('ResponseShape');
    expect(error).toMatchObject({ path: 'id', problem: 'expected a GUID' });
  });

  test('when isUpgraded is not a boolean, then the error names it', () => {
    expect(() =>
      parse(
        customerMonthlyUsageRecordSchema,
        '{"id":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","totalCost":1,"isUpgraded":"yes"}',
      ),
    ).toThrow(expect.objectContaining({ path: 'isUpgraded' }) as unknown as Error);
  });

  test('when the body is not JSON, then ResponseShapeError points at $', () => {
    expect(() => parseJson('{"totalCost":1<!-- upstream error -->')).toThrow(ResponseShapeError);
    expect(() => parseJson('')).toThrow(expect.objectContaining({ path: '$' }) as unknown as Error);
  });
});

describe('Retry-After and backoff', () => {
  test('when Retry-After is seconds, then it is that many milliseconds', () => {
    expect(parseRetryAfter('57')).toBe(57_000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
  });

  test('when Retry-After is an HTTP date, then it is the time until that date', () => {
    const now = Date.parse('Sun, 15 Mar 2026 12:00:00 GMT');
    expect(parseRetryAfter('Sun, 15 Mar 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 15 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  test('when retries go on, then the backoff cap doubles up to its maximum, and Retry-After comes on top', () => {
    const policy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 4000, maxTotalMs: 60_000 };
    const top = () => 0.99999;
    expect([0, 1, 2, 3, 4].map((n) => Math.round(backoffMs(n, policy, top) / 100) * 100)).toEqual([
      500, 1000, 2000, 4000, 4000,
    ]);
    expect(retryDelayMs(0, policy, 3000, () => 0)).toBe(3000);
  });
});

describe('links.next', () => {
  const base = 'https://api.partnercenter.microsoft.com';

  test('when next.uri is relative to /v1, then the request path gains /v1 and the continuation header', () => {
    expect(
      nextPageRequest(base, {
        uri: '/customers?size=100&seekOperation=Next',
        headers: [
          { key: 'MS-ContinuationToken', value: 'abc' },
          { key: 'Authorization', value: 'Bearer stolen' },
        ],
      }),
    ).toEqual({
      path: '/v1/customers?size=100&seekOperation=Next',
      headers: { 'MS-ContinuationToken': 'abc' },
    });
    expect(nextPageRequest(base, { uri: 'customers?size=2', headers: [] }).path).toBe('/v1/customers?size=2');
    expect(nextPageRequest(base, { uri: '/v1/customers?size=2', headers: [] }).path).toBe(
      '/v1/customers?size=2',
    );
  });

  test('when next.uri points at another host, then it is refused', () => {
    expect(() => nextPageRequest(base, { uri: 'https://evil.example/v1/customers', headers: [] })).toThrow(
      expect.objectContaining({ code: 'ResponseShape', path: 'links.next.uri' }) as unknown as Error,
    );
  });
});
