import { billingPeriodAt } from '../../dev/sandbox/clock';
import { SandboxData } from '../../dev/sandbox/data';
import { ExportLines, wholePeriod } from '../../dev/sandbox/graphData';
import { parseUsageLineItem, usageLineReader } from '../../src/graph/lineItem';
import type { UsageLineItem } from '../../src/graph/usageExportClient';

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

/** A LineItemError naming `field`, its message free of the line's text. */
function expectRejected(parse: () => unknown, field: string): void {
  let error: unknown;
  try {
    parse();
  } catch (e) {
    error = e;
  }
  expect(error).toMatchObject({ code: 'LineItemInvalid', field });
  expect((error as Error).message).not.toContain(BASE.CustomerId);
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
    expectRejected(() => parseUsageLineItem(text), field);
  });
});

describe('the line-item rules (one parser for the client and the pipeline)', () => {
  const reader = usageLineReader(['customerName', 'entitlementId', 'meterId', 'tags']);

  it.each([
    ['2026-03-14', '2026-03-14'],
    ['2026-03-14T23:59:59', '2026-03-14'],
    ['2026-03-14T23:59:59.1234567Z', '2026-03-14'],
    ['2026-03-14 10:00:00', '2026-03-14'],
    ['2026-03-14T23:30:00-02:00', '2026-03-15'],
    ['2026-12-31T23:30:00-0100', '2027-01-01'],
    ['2026-03-01T05:00:00+14:00', '2026-02-28'],
    ['2024-03-01T00:30:00+01', '2024-02-29'],
  ])('UsageDate %s is UTC day %s, for both the item and a reader', (usageDate, day) => {
    const text = line({ UsageDate: usageDate, BillingPreTaxTotal: '1' });
    expect(parseUsageLineItem(text).usageDay).toBe(day);
    expect(reader(text).usageDay).toBe(day);
  });

  it.each([
    ['a day that does not exist', { UsageDate: '2026-02-29T00:00:00Z' }, 'UsageDate'],
    ['text after the date', { UsageDate: '2026-03-14 or so' }, 'UsageDate'],
    ['an hour past 23', { UsageDate: '2026-03-14T24:00:00Z' }, 'UsageDate'],
    ['a date that is not ISO', { UsageDate: '03/14/2026' }, 'UsageDate'],
    ['a blank currency', { BillingCurrency: ' ' }, 'BillingCurrency'],
    ['a currency that is not three letters', { BillingCurrency: 'Euro' }, 'BillingCurrency'],
    ['a pricing total that is not a decimal', { PricingPreTaxTotal: '1,5' }, 'PricingPreTaxTotal'],
    ['a pricing currency that is not three letters', { PricingCurrency: 'US$' }, 'PricingCurrency'],
    ['a billing total with a plus sign', { BillingPreTaxTotal: '+1' }, 'BillingPreTaxTotal'],
    ['a customer of blanks', { CustomerId: '  ' }, 'CustomerId'],
  ])('rejects %s, in the item and in a reader that did not ask for the field', (_name, fields, field) => {
    const text = line({ BillingPreTaxTotal: '1', ...fields });
    for (const parse of [parseUsageLineItem, reader]) expectRejected(() => parse(text), field);
  });

  it('a blank amount is absent; a bad optional decimal is undefined and the line counts', () => {
    const item = parseUsageLineItem(
      line({ BillingPreTaxTotal: '1', PricingPreTaxTotal: ' ', Quantity: 'many' }),
    );
    expect(item.pricingPreTaxTotal).toBeUndefined();
    expect(item.quantity).toBeUndefined();
    expect(() => parseUsageLineItem(line({ BillingPreTaxTotal: '' }))).toThrow(
      expect.objectContaining({ field: 'BillingPreTaxTotal', problem: 'is missing' }),
    );
  });

  it('identifiers are lower-cased, currencies upper-cased, other text as sent', () => {
    const item = parseUsageLineItem(
      line({
        CustomerId: BASE.CustomerId.toUpperCase(),
        SubscriptionId: 'ABC-1',
        EntitlementId: 'DEF-2',
        BillingCurrency: ' eur ',
        PricingCurrency: 'usd',
        ResourceGroup: 'RG-Web',
        BillingPreTaxTotal: '1',
      }),
    );
    expect(item).toMatchObject({
      customerId: BASE.CustomerId,
      subscriptionId: 'abc-1',
      entitlementId: 'def-2',
      billingCurrency: 'EUR',
      pricingCurrency: 'USD',
      resourceGroup: 'RG-Web',
    });
  });

  it('a member of a nested object, or a key inside a string, never lends its digits to an amount', () => {
    const nested = `{"CustomerId":"${BASE.CustomerId}","UsageDate":"2026-03-14","BillingCurrency":"USD","BillingPreTaxTotal":1.50000000000000000001,"FutureField":{"BillingPreTaxTotal":2.25}}`;
    expect(parseUsageLineItem(nested).billingPreTaxTotal).toBe('1.50000000000000000001');
    const inKey = `{"CustomerId":"${BASE.CustomerId}","UsageDate":"2026-03-14","BillingCurrency":"USD","BillingPreTaxTotal":0.70000000000000000001,"x\\"BillingPreTaxTotal":5}`;
    expect(parseUsageLineItem(inKey).billingPreTaxTotal).toBe('0.70000000000000000001');
  });

  it('a repeated escaped key that cannot be read exactly is a LineItemError, not a crash', () => {
    const text = `{"CustomerId":"${BASE.CustomerId}","UsageDate":"2026-03-14","BillingCurrency":"USD","Billing\\u0050reTaxTotal":1.5,"Billing\\u0050reTaxTotal":2.5}`;
    expect(() => parseUsageLineItem(text)).toThrow(
      expect.objectContaining({ code: 'LineItemInvalid', field: '$' }),
    );
  });

  it('tags: doubly encoded, null values, blank keys, a key in two casings; one frozen object per text', () => {
    const tags = JSON.stringify({ Env: 'prod', env: 'dev', ' ': 'x', owner: null, n: 1.5 });
    const first = parseUsageLineItem(line({ Tags: tags, BillingPreTaxTotal: '1' }));
    expect(first.tags).toEqual({ Env: 'prod', owner: '', n: '1.5' });
    expect(Object.isFrozen(first.tags)).toBe(true);
    expect(reader(line({ Tags: tags, BillingPreTaxTotal: '2' })).tags).toBe(first.tags);
    expect(parseUsageLineItem(line({ Tags: JSON.stringify(tags), BillingPreTaxTotal: '1' })).tags).toEqual(
      first.tags,
    );
    const unreadable = reader(line({ Tags: '[1]', BillingPreTaxTotal: '1' }));
    expect(unreadable).toMatchObject({ tags: {}, tagsUnreadable: true });
  });

  it('a reader builds the core fields and those asked for, equal to the whole item’s', () => {
    const data = new SandboxData(17, 6);
    const moment = wholePeriod(billingPeriodAt(Date.UTC(2026, 1, 10)));
    const plan = { moment, attributeSet: 'full' as const, blobCount: 1, linesPerBlob: 2_000, variety: true };
    const lines = new ExportLines(data, { tenantId: 'partner', name: 'Partner' }, plan);
    let camel = 0;
    for (const text of lines.lines(0, lines.totalLines)) {
      if (text.startsWith('{"partnerId"')) camel++;
      const item = parseUsageLineItem(text);
      const part = reader(text);
      expect(Object.keys(part).sort()).toEqual(
        [
          'customerId',
          'usageDate',
          'usageDay',
          'billingPreTaxTotal',
          'billingCurrency',
          'pricingPreTaxTotal',
          'pricingCurrency',
          'customerName',
          'entitlementId',
          'meterId',
          'tags',
          'tagsUnreadable',
        ].sort(),
      );
      for (const [key, value] of Object.entries(part))
        expect([key, value]).toEqual([key, item[key as keyof UsageLineItem]]);
    }
    expect(camel).toBeGreaterThan(0);
  });
});
