import { odata, type TransactionAction } from '@azure/data-tables';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { addDecimals, compareDecimal, subtractDecimal } from '../../src/domain/decimal';
import type { UsageExportRecord } from '../../src/domain/dailyUsage';
import { newTableMetrics } from '../../src/storage/partitionWriter';
import { EXPORT_TABLES, TableUsageExportStore } from '../../src/storage/tableUsageExportStore';
import type { UsageAggregate } from '../../src/usageExport/aggregate';
import { readBlob } from '../../src/usageExport/readBlob';
import { testTables } from '../support/tables';

/** A blob's aggregates by customer (drains the aggregate). */
const byCustomer = (aggregate: UsageAggregate) =>
  new Map([...aggregate.drain()].map((c) => [c.customerId, c]));

/**
 * A blob's lines → exact aggregates per customer, day and dimension → staged per blob → merged
 * into the customer's month, over Azurite. Amounts are exact whether sent as JSON numbers or
 * strings, keys match in any casing, and a hostile line is counted as rejected without stopping
 * the blob.
 */
const C1 = '11111111-1111-4111-8111-111111111111';
const C2 = '22222222-2222-4222-8222-222222222222';
const SUB = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';

function line(fields: Record<string, unknown>): string {
  return JSON.stringify({
    PartnerId: 'p',
    CustomerId: C1,
    CustomerName: 'Contoso',
    UsageDate: '2026-11-03T00:00:00Z',
    EntitlementId: SUB,
    EntitlementDescription: 'Prod',
    ResourceGroup: 'RG-Web',
    MeterCategory: 'Virtual Machines',
    MeterId: 'M-1',
    MeterName: 'D2 v3',
    Tags: '{"env":"prod"}',
    BillingPreTaxTotal: '0.1',
    BillingCurrency: 'EUR',
    PricingPreTaxTotal: '0.12',
    PricingCurrency: 'USD',
    Unknown: { nested: [1, 2] },
    ...fields,
  });
}

const gz = (lines: string[]) => Readable.from([gzipSync(lines.join('\n') + '\n')]);

test('decimals add and subtract exactly, past a double’s digits', () => {
  expect(addDecimals(['0.1', '0.2'])).toBe('0.3');
  expect(addDecimals(['120.5682999999995904716', '0.0000000000000000001'])).toBe('120.5682999999995904717');
  expect(addDecimals(['1E-7', '-2.5', '2.5'])).toBe('0.0000001');
  expect(subtractDecimal('10', '0.01')).toBe('9.99');
  expect(subtractDecimal('-1', '-1')).toBe('0');
});

test('a blob aggregates exactly: numbers and strings, either casing, unknown fields, a hostile line skipped', async () => {
  const lines = [
    line({}),
    // camelCase keys and JSON numbers with more digits than a double keeps
    line({}).replace('"BillingPreTaxTotal":"0.1"', '"BillingPreTaxTotal":0.10000000000000000001'),
    JSON.stringify({
      customerId: C1,
      usageDate: '2026-11-03',
      entitlementId: SUB,
      resourceGroup: 'rg-web',
      meterCategory: 'Virtual Machines',
      meterId: 'm-1',
      tags: { Env: 'prod', team: 'a' },
      billingPreTaxTotal: '2',
      billingCurrency: 'eur',
      pricingPreTaxTotal: '2.4',
      pricingCurrency: 'usd',
    }),
    line({ CustomerId: C2, Tags: '', UsageDate: '2026-11-04T23:30:00-02:00' }),
    '{not json',
    line({ BillingPreTaxTotal: 'NaN' }),
    '',
  ];
  const totals = await readBlob(gz(lines));
  expect(totals.linesRead).toBe(6);
  expect(totals.linesRejected).toBe(2);
  expect(totals.rejections.join(' ')).not.toContain('Contoso');
  const customers = byCustomer(totals.aggregate);
  const c1 = customers.get(C1)!.entries;
  const total = c1.find((e) => e.dimension === 'total' && e.day === '2026-11-03')!;
  expect(total.billingTotal).toBe('2.20000000000000000001');
  expect(total.pricingTotal).toBe('2.64');
  expect(total.lines).toBe(3);
  const rg = c1.filter((e) => e.dimension === 'resourceGroup');
  expect(rg).toHaveLength(1);
  expect(rg[0].value).toBe(`${SUB}/rg-web`);
  const env = c1.filter((e) => e.dimension === 'tag:env');
  expect(env.map((e) => [e.value, e.billingTotal])).toEqual([['prod', '2.20000000000000000001']]);
  expect(c1.filter((e) => e.dimension === 'tag:team').map((e) => e.billingTotal)).toEqual(['2']);
  // -02:00 moves 23:30 on the 4th to the 5th in UTC
  expect(customers.get(C2)!.entries.find((e) => e.dimension === 'total')!.day).toBe('2026-11-05');
});

function record(exportId: string, kind: 'unbilled' | 'billed' = 'unbilled'): UsageExportRecord {
  return {
    exportId,
    source:
      kind === 'billed'
        ? { kind, invoiceId: 'G1' }
        : { kind, billingPeriod: 'current', currencyCode: 'EUR', month: '2026-11' },
    trigger: 'schedule',
    state: 'merging',
    requestedAt: '2026-11-10T00:00:00Z',
    updatedAt: '2026-11-10T00:00:00Z',
    blobsDone: 0,
    failedBlobs: [],
    linesRead: 0,
    linesRejected: 0,
    customersMerged: 0,
  };
}

async function stageBlob(store: TableUsageExportStore, exportId: string, index: number, lines: string[]) {
  const totals = await readBlob(gz(lines));
  await store.saveBlobResult(exportId, index, `part-${index}.json.gz`, {
    linesRead: totals.linesRead,
    linesRejected: totals.linesRejected,
    rejections: totals.rejections,
    customers: totals.aggregate.drain(),
  });
}

test('blobs staged twice (a retry) count once; a month flips to the new export only when merged', async () => {
  const store = new TableUsageExportStore(testTables(), newTableMetrics());
  await store.ensureTables();
  const first = '20261110T000000000Z-00000001';
  await stageBlob(store, first, 0, [line({}), line({ BillingPreTaxTotal: '1' })]);
  await stageBlob(store, first, 1, [line({ BillingPreTaxTotal: '0.05' })]);
  // the retried blob 1: written again, same rows
  await stageBlob(store, first, 1, [line({ BillingPreTaxTotal: '0.05' })]);
  expect((await store.blobProgress(first)).linesRead).toBe(3);
  const [customer] = await store.customersAfter(first, undefined, 10);
  expect(customer.blobs).toEqual([0, 1]);
  await store.mergeCustomer(record(first), customer.customerKey, customer.blobs, new Date());
  let read = await store.readCustomer(C1, 'meter', '2026-11', '2026-11');
  expect(read.entries.map((e) => e.billingTotal)).toEqual(['1.15']);
  expect(read.sources[0].exportId).toBe(first);

  // A second export: staged but not merged, the first stays served.
  const second = '20261111T000000000Z-00000002';
  await stageBlob(store, second, 0, [line({ BillingPreTaxTotal: '7' })]);
  read = await store.readCustomer(C1, 'meter', '2026-11', '2026-11');
  expect(read.entries.map((e) => e.billingTotal)).toEqual(['1.15']);
  // merged: the second, all of it
  await store.mergeCustomer(record(second), customer.customerKey, [0], new Date());
  read = await store.readCustomer(C1, 'meter', '2026-11', '2026-11', true);
  expect(read.entries.map((e) => e.billingTotal)).toEqual(['7']);
  expect(read.totals.map((e) => e.billingTotal)).toEqual(['7']);
  expect(read.sources[0].exportId).toBe(second);
  // merged again (a redelivered message): nothing changes, but its partner-wide rows come again
  const again = await store.mergeCustomer(record(second), customer.customerKey, [0], new Date());
  expect(again.kept).toEqual(['2026-11']);
  await store.writePartnerRows([again.partnerRows]);
  const partner = await store.readPartner('total', '2026-11', '2026-11');
  expect(partner.map((e) => [e.customerId, e.billingTotal])).toEqual([[C1, '7']]);
  expect(compareDecimal(partner[0].pricingTotal, '0.12')).toBe(0);
});

test('an unbilled export does not replace a month a billed export filled', async () => {
  const store = new TableUsageExportStore(testTables(), newTableMetrics());
  await store.ensureTables();
  const billed = '20261210T000000000Z-0000000b';
  await stageBlob(store, billed, 0, [line({ BillingPreTaxTotal: '3' })]);
  const [customer] = await store.customersAfter(billed, undefined, 10);
  await store.mergeCustomer(record(billed, 'billed'), customer.customerKey, [0], new Date());
  const unbilled = '20261211T000000000Z-0000000c';
  await stageBlob(store, unbilled, 0, [line({ BillingPreTaxTotal: '4' })]);
  const outcome = await store.mergeCustomer(record(unbilled), customer.customerKey, [0], new Date());
  expect(outcome).toEqual({ committed: [], kept: ['2026-11'], partnerRows: [] });
  expect((await store.readCustomer(C1, 'total', '2026-11', '2026-11')).entries[0].billingTotal).toBe('3');
});

test('a repeated amount key counts as JSON.parse reads it (the last), digits kept', async () => {
  const repeated = line({}).replace(
    '"BillingPreTaxTotal":"0.1"',
    '"BillingPreTaxTotal":1,"BillingPreTaxTotal" : 2.00000000000000000003',
  );
  const totals = await readBlob(gz([repeated]));
  const total = byCustomer(totals.aggregate)
    .get(C1)!
    .entries.find((e) => e.dimension === 'total')!;
  expect(total.billingTotal).toBe('2.00000000000000000003');
});

test('a line in neither PascalCase nor camelCase still reads, key by key', async () => {
  const lower = JSON.stringify({
    customerid: C1,
    usagedate: '2026-11-03',
    metercategory: 'Storage',
    billingpretaxtotal: 1.25,
    billingcurrency: 'EUR',
  });
  const totals = await readBlob(gz([lower]));
  const entries = byCustomer(totals.aggregate).get(C1)!.entries;
  expect(entries.find((e) => e.dimension === 'meterCategory')).toMatchObject({
    value: 'Storage',
    billingTotal: '1.25',
  });
});

test('attributes holding the key separator never fall into another group, and read back exactly', async () => {
  const SEP = '\u0001';
  const totals = await readBlob(
    gz([
      line({ ResourceGroup: `a${SEP}b`, MeterCategory: 'c', BillingPreTaxTotal: '1' }),
      line({ ResourceGroup: 'a', MeterCategory: `b${SEP}c`, BillingPreTaxTotal: '2' }),
      line({ ResourceGroup: 'a', MeterCategory: `b${SEP}c`, BillingPreTaxTotal: '0.5' }),
      line({ ResourceGroup: '[', MeterCategory: '[', BillingPreTaxTotal: '4' }),
    ]),
  );
  expect(totals.aggregate.groupCount).toBe(3);
  const entries = byCustomer(totals.aggregate).get(C1)!.entries;
  const of = (dimension: string) =>
    entries
      .filter((e) => e.dimension === dimension)
      .map((e) => [e.value, e.billingTotal, e.lines])
      .sort();
  expect(of('resourceGroup')).toEqual([
    [`${SUB}/[`, '4', 1],
    [`${SUB}/a${SEP}b`, '1', 1],
    [`${SUB}/a`, '2.5', 2],
  ]);
  expect(of('meterCategory')).toEqual([
    ['[', '4', 1],
    [`b${SEP}c`, '2.5', 2],
    ['c', '1', 1],
  ]);
  expect(of('subscription')).toEqual([[SUB, '7.5', 4]]);
  expect(entries.find((e) => e.dimension === 'subscription')!.label).toBe('Prod');
  expect(totals.aggregate.groupCount).toBe(0);
});

test('draining releases each customer as it is taken, and a second drain yields nothing', async () => {
  const totals = await readBlob(gz([line({}), line({ CustomerId: C2 }), line({ CustomerId: C2 })]));
  expect(totals.aggregate.groupCount).toBe(2);
  const drain = totals.aggregate.drain();
  expect(drain.next().value).toMatchObject({ customerId: C1, customerName: 'Contoso' });
  expect(totals.aggregate.groupCount).toBe(1);
  expect(drain.next().value).toMatchObject({ customerId: C2 });
  expect(totals.aggregate.groupCount).toBe(0);
  expect([...totals.aggregate.drain()]).toEqual([]);
});

test('partner-wide tag rows: exact per tag key, and emptied when a newer export drops the tag, even when the first merge died before writing them', async () => {
  const store = new TableUsageExportStore(testTables(), newTableMetrics());
  await store.ensureTables();
  const first = '20261112T000000000Z-00000003';
  await stageBlob(store, first, 0, [
    line({ Tags: '{"env":"prod","env_x":"a"}', BillingPreTaxTotal: '2' }),
    line({ Tags: '', BillingPreTaxTotal: '1' }),
  ]);
  const [customer] = await store.customersAfter(first, undefined, 10);
  await store.writePartnerRows([
    (await store.mergeCustomer(record(first), customer.customerKey, [0], new Date())).partnerRows,
  ]);
  const partner = async (dimension: string) =>
    (await store.readPartner(dimension, '2026-11', '2026-11')).map((e) => [e.value, e.billingTotal]);
  // "tag:env" does not take in "tag:env_x" rows, though its key is a prefix of theirs.
  expect(await partner('tag:env')).toEqual([['prod', '2']]);
  expect(await partner('tag:env_x')).toEqual([['a', '2']]);
  expect(await partner('resourceGroup')).toEqual([[`${SUB}/rg-web`, '3']]);

  const second = '20261113T000000000Z-00000004';
  await stageBlob(store, second, 0, [line({ Tags: '{"team":"a"}', BillingPreTaxTotal: '5' })]);
  // The first merge commits the month, then dies before its partner rows are written.
  await store.mergeCustomer(record(second), customer.customerKey, [0], new Date());
  expect(await partner('tag:env')).toEqual([['prod', '2']]);
  // The redelivered merge: the month is kept, its partner rows come, the dropped tags emptied.
  const redo = await store.mergeCustomer(record(second), customer.customerKey, [0], new Date());
  expect(redo.kept).toEqual(['2026-11']);
  await store.writePartnerRows([redo.partnerRows]);
  expect(await partner('tag:env')).toEqual([]);
  expect(await partner('tag:env_x')).toEqual([]);
  expect(await partner('tag:team')).toEqual([['a', '5']]);
  expect(await partner('total')).toEqual([['', '5']]);
});

test('a blob applies the line-item rules: rejections name the field, tags and ids as the client reads them', async () => {
  const lines = [
    line({ CustomerId: C1.toUpperCase(), Tags: '{"Env":"prod","env":"dev","":"x","owner":null}' }),
    line({ Tags: '"{\\"env\\":\\"prod\\",\\"owner\\":\\"\\"}"', BillingPreTaxTotal: '0.2' }),
    line({ BillingCurrency: undefined }),
    line({ PricingPreTaxTotal: '1,2' }),
    line({ UsageDate: '2026-02-30' }),
    line({ PricingCurrency: 'dollars' }),
  ];
  const totals = await readBlob(gz(lines));
  expect(totals.linesRead).toBe(6);
  expect(totals.rejections).toEqual([
    'line 3: BillingCurrency is missing',
    'line 4: PricingPreTaxTotal is not a decimal number',
    'line 5: UsageDate is not a date',
    'line 6: PricingCurrency is not a three-letter currency code',
  ]);
  const entries = byCustomer(totals.aggregate).get(C1)!.entries;
  // Read alike: the first casing of env wins, a blank key is dropped, null is ''.
  expect(entries.find((e) => e.dimension === 'total')).toMatchObject({ billingTotal: '0.3', lines: 2 });
  expect(
    entries.filter((e) => e.dimension.startsWith('tag:')).map((e) => [e.dimension, e.value, e.lines]),
  ).toEqual([
    ['tag:env', 'prod', 2],
    ['tag:owner', '', 2],
  ]);
});

test('a tag named __proto__ is a tag like any other', async () => {
  const totals = await readBlob(gz([line({ Tags: '{"__proto__":"x","env":"prod"}' })]));
  const entries = byCustomer(totals.aggregate).get(C1)!.entries;
  expect(
    entries
      .filter((e) => e.dimension.startsWith('tag:'))
      .map((e) => [e.dimension, e.value])
      .sort(),
  ).toEqual([
    ['tag:__proto__', 'x'],
    ['tag:env', 'prod'],
  ]);
});

test('partner-wide rows never split a customer across transactions: a failed one leaves that customer all old', async () => {
  const tables = testTables();
  const store = new TableUsageExportStore(tables, newTableMetrics());
  await store.ensureTables();
  const row = (customer: string, i: number): TransactionAction => [
    'upsert',
    { partitionKey: 'partner', rowKey: `p_test_${customer}_${String(i).padStart(3, '0')}`, v: 'new' },
    'Replace',
  ];
  const first = Array.from({ length: 60 }, (_, i) => row('c1', i));
  const second = Array.from({ length: 59 }, (_, i) => row('c2', i));
  // The second customer's last action fails in Table Storage (an update of a row that is not there),
  // so its whole transaction is refused.
  second.push(['update', { partitionKey: 'partner', rowKey: 'p_test_c2_missing', v: 'new' }, 'Merge']);
  await expect(store.writePartnerRows([first, second])).rejects.toThrow();
  const written = new Map<string, number>();
  for await (const entity of tables.table(EXPORT_TABLES.daily).listEntities({
    queryOptions: {
      filter: odata`PartitionKey eq 'partner' and RowKey ge 'p_test_' and RowKey lt 'p_test~'`,
    },
  })) {
    const customer = String(entity.rowKey).split('_')[2];
    written.set(customer, (written.get(customer) ?? 0) + 1);
  }
  expect(Object.fromEntries(written)).toEqual({ c1: 60 });
});

test('a tag key or a customer id ending in ".p001" never lands on the part row of a large view: all read back whole', async () => {
  const store = new TableUsageExportStore(testTables(), newTableMetrics());
  await store.ensureTables();
  const exportId = '20261114T000000000Z-00000005';
  // 4,000 distinct values of "env" make its month view larger than one entity (part rows .p001, …);
  // one line tags "env.p001", whose figures row would otherwise be that part row's key.
  const value = (i: number) => `v${String(i).padStart(4, '0')}-${'x'.repeat(240)}`;
  const lines = Array.from({ length: 4000 }, (_, i) => line({ Tags: JSON.stringify({ env: value(i) }) }));
  lines.push(line({ Tags: '{"env.p001":"hostile"}', BillingPreTaxTotal: '5' }));
  // A customer id is not checked to be a GUID: "<C1>.p001" would be the key of C1's staged part row.
  const hostileCustomer = `${C1}.p001`;
  lines.push(line({ CustomerId: hostileCustomer, BillingPreTaxTotal: '7' }));
  await stageBlob(store, exportId, 0, lines);
  const customers = await store.customersAfter(exportId, undefined, 10);
  expect(customers).toHaveLength(2);
  for (const customer of customers)
    await store.mergeCustomer(record(exportId), customer.customerKey, [0], new Date());
  const other = await store.readCustomer(hostileCustomer, 'total', '2026-11', '2026-11');
  expect(other.entries.map((e) => e.billingTotal)).toEqual(['7']);
  const env = await store.readCustomer(C1, 'tag:env', '2026-11', '2026-11');
  const tagged = env.entries.filter((e) => e.value !== '');
  expect(tagged).toHaveLength(4000);
  expect(tagged.every((e, i) => e.value === value(i) && e.billingTotal === '0.1')).toBe(true);
  const hostile = await store.readCustomer(C1, 'tag:env.p001', '2026-11', '2026-11');
  expect(hostile.entries.filter((e) => e.value !== '').map((e) => [e.value, e.billingTotal])).toEqual([
    ['hostile', '5'],
  ]);
});
