import { errorCode } from '../../src/domain/errors';
import { parseJson } from '../../src/partnerCenter/json';
import {
  azureEntitlementSchema,
  meterUsageRecordSchema,
  resourceUsageRecordSchema,
  subscriptionUsageSummarySchema,
  usageBudgetSchema,
  validate,
} from '../../src/partnerCenter/schemas';

// Literal bodies in the shape of the documented examples of the Azure-plan calls.
const parse = (schema: Parameters<typeof validate>[0], text: string) => validate(schema, parseJson(text));

const shapeError = (schema: Parameters<typeof validate>[0], text: string) => {
  try {
    parse(schema, text);
  } catch (error) {
    return { code: errorCode(error), message: (error as Error).message };
  }
  throw new Error('expected a ResponseShapeError');
};

describe('Partner Center Azure-plan resources: documented variants', () => {
  test('when a meter record has the documented meter id, a null usdTotalCost and an unknown field, then it parses with every digit', () => {
    const meter = parse(
      meterUsageRecordSchema,
      '{"subscriptionId":"4B2F4D3A-1C2B-4D5E-8F90-A1B2C3D4E5F6","meterId":"DZH318Z0BNVX-005J-Data Transfer In (GB)",' +
        '"meterName":"Data Transfer In","category":"Bandwidth","subcategory":"Bandwidth","quantityUsed":0.01129,' +
        '"unit":"1 GB","totalCost":120.5682999999995904716,"currencyCode":"GBP","usdTotalCost":null,' +
        '"lastModifiedDate":"2019-09-17T21:08:44.2566667+00:00","attributes":{"objectType":"MeterUsageRecord"},"meterRegion":"uk south"}',
    );

    expect(meter).toEqual({
      subscriptionId: '4b2f4d3a-1c2b-4d5e-8f90-a1b2c3d4e5f6',
      meterId: 'DZH318Z0BNVX-005J-Data Transfer In (GB)',
      meterName: 'Data Transfer In',
      category: 'Bandwidth',
      subcategory: 'Bandwidth',
      quantityUsed: '0.01129',
      unit: '1 GB',
      totalCost: '120.5682999999995904716',
      currencyCode: 'GBP',
      lastModifiedDate: '2019-09-17T21:08:44.2566667+00:00',
    });
  });

  test('when a resource record has only resourceName and a URI with forbidden key characters, then the URI is kept byte for byte', () => {
    const uri =
      '/subscriptions/X/resourceGroups/TESTRG1/providers/Microsoft.Web/sites/a#b?c\\d\u0001' +
      'e'.repeat(1100);
    const record = parse(
      resourceUsageRecordSchema,
      JSON.stringify({
        subscriptionId: 'p',
        resourceUri: uri,
        resourceType: 'Microsoft.Web',
        entitlementId: 'AAAA',
        resourceName: 'testVM1',
        totalCost: 0,
      }).replace('"totalCost":0', '"totalCost":80.3322286322163563,"usdTotalCost":98.1699999999999985'),
    );

    expect(record).toEqual({
      subscriptionId: 'p',
      resourceUri: uri,
      resourceType: 'Microsoft.Web',
      entitlementId: 'aaaa',
      name: 'testVM1',
      totalCost: '80.3322286322163563',
      usdTotalCost: '98.1699999999999985',
    });
  });

  test('when an Azure-plan subscription summary has only resourceId and a legacy one only id, then both name the subscription', () => {
    const dates =
      '"billingStartDate":"2019-09-01T00:00:00+00:00","billingEndDate":"2019-10-01T00:00:00+00:00"';
    const plan = parse(
      subscriptionUsageSummarySchema,
      `{"resourceId":"4B2F4D3A-1C2B-4D5E-8F90-A1B2C3D4E5F6","resourceName":"Azure plan",${dates},` +
        '"totalCost":28.82860766744404945074,"currencyCode":"GBP","usdTotalCost":35.23000000000000362337}',
    );
    const legacy = parse(
      subscriptionUsageSummarySchema,
      `{"id":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","name":"Microsoft Azure",${dates},"totalCost":0,"currencyLocale":"en-US"}`,
    );

    expect(plan).toMatchObject({
      subscriptionId: '4b2f4d3a-1c2b-4d5e-8f90-a1b2c3d4e5f6',
      totalCost: '28.82860766744404945074',
      usdTotalCost: '35.23000000000000362337',
    });
    expect(legacy).toMatchObject({
      subscriptionId: '0c39d6d5-c70d-4c55-bc02-f620844f3fd1',
      currencyLocale: 'en-US',
    });
  });

  test('when a budget amount is null, absent or a long decimal, then it reads as no budget or the exact digits', () => {
    expect(parse(usageBudgetSchema, '{"amount":null,"attributes":{"objectType":"SpendingBudget"}}')).toEqual(
      {},
    );
    expect(parse(usageBudgetSchema, '{"attributes":{"objectType":"SpendingBudget"}}')).toEqual({});
    expect(parse(usageBudgetSchema, '{"amount":1500.123456789012345678}')).toEqual({
      amount: '1500.123456789012345678',
    });
  });

  test('when an entitlement carries an unknown status, then it is kept as sent', () => {
    expect(
      parse(azureEntitlementSchema, '{"id":"ABC","friendlyName":"Microsoft Azure","status":"warned"}'),
    ).toEqual({
      id: 'abc',
      friendlyName: 'Microsoft Azure',
      status: 'warned',
    });
  });

  test.each([
    [
      'a meter record without meterId',
      meterUsageRecordSchema,
      '{"quantityUsed":1,"totalCost":1}',
      /meterId: is missing/,
    ],
    [
      'a meter record with a string cost',
      meterUsageRecordSchema,
      '{"meterId":"m","quantityUsed":1,"totalCost":"1"}',
      /totalCost: expected a JSON number/,
    ],
    [
      'a resource record without resourceUri',
      resourceUsageRecordSchema,
      '{"totalCost":1}',
      /resourceUri: is missing/,
    ],
    [
      'a budget with a string amount',
      usageBudgetSchema,
      '{"amount":"100"}',
      /amount: expected a JSON number/,
    ],
  ])('when %s arrives, then ResponseShapeError names the field', (_case, schema, text, message) => {
    const error = shapeError(schema, text);
    expect(error.code).toBe('ResponseShape');
    expect(error.message).toMatch(message);
  });
});
