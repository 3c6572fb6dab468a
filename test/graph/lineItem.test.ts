import { parseUsageLineItem } from '../../src/graph/lineItem';

const BASE = {
  CustomerId: '3e8a1c2b-0000-4000-8000-000000000001',
  UsageDate: '2026-03-14T00:00:00Z',
  BillingCurrency: 'EUR',
};

function line(fields: Record<string, unknown>, raw: Record<string, string> = {}): string {
  const json = JSON.stringify({ ...BASE, ...fields });
  const extra = Object.entries(raw).map(([k, v]) => `"${k}":${v}`);
  return extra.length ? `${json.slice(0, -1)},${extra.join(',')}}` : json;
}

describe('parseUsageLineItem', () => {
  it('keeps every digit of amounts sent as JSON numbers (more than a double holds)', () => {
    const item = parseUsageLineItem(
      line(
        {},
        {
          BillingPreTaxTotal: '120.5682999999995904716',
          PricingPreTaxTotal: '98.16999999999999850000001',
          Quantity: '1e-7',
          UnitPrice: '0.10000000000000000555',
          PCToBCExchangeRate: '0.9213456789',
        },
      ),
    );
    expect(item.billingPreTaxTotal).toBe('120.5682999999995904716');
    expect(item.pricingPreTaxTotal).toBe('98.16999999999999850000001');
    expect(item.quantity).toBe('1e-7');
    expect(item.unitPrice).toBe('0.10000000000000000555');
    expect(item.pcToBcExchangeRate).toBe('0.9213456789');
  });

  it('accepts amounts as strings, keys in any casing, and ignores unknown fields', () => {
    const item = parseUsageLineItem(
      JSON.stringify({
        customerId: BASE.CustomerId,
        usagedate: '2026-03-14T00:00:00',
        BILLINGCURRENCY: 'eur',
        billingPreTaxTotal: ' 12.340000000000000000001 ',
        resourceURI: '/subscriptions/x/resourceGroups/rg/providers/p/t/n',
        ResourceGroup: 'rg-data-Åre',
        FutureField: { nested: [1, 2.5] },
        MeterCategory: 'Virtual Machines',
      }),
    );
    expect(item).toMatchObject({
      customerId: BASE.CustomerId,
      usageDay: '2026-03-14',
      billingCurrency: 'EUR',
      billingPreTaxTotal: '12.340000000000000000001',
      resourceUri: '/subscriptions/x/resourceGroups/rg/providers/p/t/n',
      resourceGroup: 'rg-data-Åre',
      meterCategory: 'Virtual Machines',
    });
    expect(item).not.toHaveProperty('FutureField');
    expect(item).not.toHaveProperty('futureField');
  });

  it('a key the fast path cannot see (\\u escapes) still keeps its digits', () => {
    const text = `{"CustomerId":"${BASE.CustomerId}","UsageDate":"2026-03-14","BillingCurrency":"USD","Billing\\u0050reTaxTotal":0.1000000000000000000000000001}`;
    expect(parseUsageLineItem(text).billingPreTaxTotal).toBe('0.1000000000000000000000000001');
  });

  it('a repeated key counts once, its last value, as JSON.parse reads it; blanks around the colon are fine', () => {
    const repeated = `{"CustomerId":"${BASE.CustomerId}","UsageDate":"2026-03-14","BillingCurrency":"USD","BillingPreTaxTotal":1.5,"BillingPreTaxTotal":2.0000000000000000000001}`;
    expect(parseUsageLineItem(repeated).billingPreTaxTotal).toBe('2.0000000000000000000001');
    const spaced = `{ "CustomerId" : "${BASE.CustomerId}" , "UsageDate" : "2026-03-14", "BillingCurrency" : "USD", "BillingPreTaxTotal" : 0.3000000000000000000004 }`;
    expect(parseUsageLineItem(spaced).billingPreTaxTotal).toBe('0.3000000000000000000004');
  });

  it('does not touch a number-looking text inside a string value', () => {
    const tags = JSON.stringify({ note: '"BillingPreTaxTotal":5' });
    const item = parseUsageLineItem(line({ Tags: tags }, { BillingPreTaxTotal: '7.25' }));
    expect(item.billingPreTaxTotal).toBe('7.25');
    expect(item.tags).toEqual({ note: '"BillingPreTaxTotal":5' });
  });

  it('parses tags from a JSON string or an object; unreadable tags are flagged, the line still counts', () => {
    expect(parseUsageLineItem(line({ Tags: '{"env":"prod","n":1}', BillingPreTaxTotal: '1' })).tags).toEqual({
      env: 'prod',
      n: '1',
    });
    expect(parseUsageLineItem(line({ Tags: { env: 'dev' }, BillingPreTaxTotal: '1' })).tags).toEqual({
      env: 'dev',
    });
    expect(parseUsageLineItem(line({ Tags: '', BillingPreTaxTotal: '1' })).tags).toEqual({});
    const bad = parseUsageLineItem(line({ Tags: '{not json', BillingPreTaxTotal: '1' }));
    expect(bad.tags).toEqual({});
    expect(bad.tagsUnreadable).toBe(true);
    const proto = parseUsageLineItem(
      line({ Tags: '{"__proto__":"x","constructor":"y"}', BillingPreTaxTotal: '1' }),
    );
    expect(Object.keys(proto.tags)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(proto.tags)).toBe(Object.prototype);
  });

  it('missing optional fields are undefined', () => {
    const item = parseUsageLineItem(line({}, { BillingPreTaxTotal: '3' }));
    expect(item.meterName).toBeUndefined();
    expect(item.pricingPreTaxTotal).toBeUndefined();
    expect(item.tags).toEqual({});
  });

  it.each([
    ['not json', '{"CustomerId":', '$'],
    ['an array', '[1,2]', '$'],
    ['no customer', JSON.stringify({ ...BASE, CustomerId: '', BillingPreTaxTotal: 1 }), 'CustomerId'],
    ['no total', JSON.stringify({ ...BASE }), 'BillingPreTaxTotal'],
    [
      'a total that is not a number',
      JSON.stringify({ ...BASE, BillingPreTaxTotal: '12,5' }),
      'BillingPreTaxTotal',
    ],
    [
      'no currency',
      JSON.stringify({ ...BASE, BillingCurrency: undefined, BillingPreTaxTotal: 1 }),
      'BillingCurrency',
    ],
    ['a bad date', JSON.stringify({ ...BASE, UsageDate: '2026-02-30', BillingPreTaxTotal: 1 }), 'UsageDate'],
    ['no date', JSON.stringify({ ...BASE, UsageDate: undefined, BillingPreTaxTotal: 1 }), 'UsageDate'],
  ])('rejects %s with LineItemError naming the field, never echoing the line', (_name, text, field) => {
    let error: unknown;
    try {
      parseUsageLineItem(text);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'LineItemInvalid', field });
    expect((error as Error).message).not.toContain(BASE.CustomerId);
  });
});
