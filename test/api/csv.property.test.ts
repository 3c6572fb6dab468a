import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { CUSTOMER_COLUMNS, customersCsv, NUMERIC_COLUMNS } from '../../src/api/csv';
import type { CustomerRecordBody } from '../../src/api/representation';

// A spreadsheet ends a row at CRLF, a bare LF or a bare CR alike; so does this reader.
const AS_A_SPREADSHEET = { record_delimiter: ['\r\n', '\n', '\r'] };

// What OWASP's CSV-injection guidance asks of a served text cell: starting with = + - @ tab or
// CR, it is shown as text by a leading apostrophe. Written out here, not taken from src.
const served = (value: string) => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ',', '"', ';', 'a', ' '),
    maxLength: 12,
  }),
);
const optionalText = fc.option(text, { nil: null });
const decimal = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.nat({ max: 9999 }))
  .map(([negative, whole, fraction]) => `${negative ? '-' : ''}${whole}.${fraction}`);

const record: fc.Arbitrary<CustomerRecordBody> = fc.record({
  customerId: text,
  name: optionalText,
  isUpgraded: fc.boolean(),
  budget: fc.option(decimal, { nil: null }),
  customerSpendingBudget: fc.option(fc.oneof(decimal, text), { nil: null }),
  percentUsed: fc.option(decimal, { nil: null }),
  totalCost: decimal,
  usdTotalCost: fc.option(decimal, { nil: null }),
  currencyCode: optionalText,
  currencyLocale: optionalText,
  lastModifiedDate: optionalText,
});

const expectedCell = (column: string, value: unknown): string => {
  if (value === null) return '';
  if (typeof value === 'boolean') return String(value);
  const s = String(value);
  if (NUMERIC_COLUMNS.has(column) && /^-?\d+(\.\d+)?$/.test(s)) return s;
  return served(s);
};

test('when customer records hold arbitrary Unicode text, then a standard CSV reader reads back exactly the rows and values served', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 8 }), (records) => {
      const rows = parse(customersCsv(records), AS_A_SPREADSHEET) as string[][];
      expect(rows[0]).toEqual([...CUSTOMER_COLUMNS]);
      expect(rows.slice(1)).toEqual(
        records.map((r) => CUSTOMER_COLUMNS.map((column) => expectedCell(column, r[column]))),
      );
    }),
    { numRuns: 400, seed: 20261204 },
  );
});

test('when an amount is negative it stays a number; when a text cell starts like a formula it is neutralised', () => {
  const [, row] = parse(
    customersCsv([
      {
        customerId: '@SUM(1+1)',
        name: '-2+3',
        isUpgraded: false,
        budget: null,
        customerSpendingBudget: '=1+1',
        percentUsed: null,
        totalCost: '-12.50',
        usdTotalCost: '-0.001',
        currencyCode: '+USD',
        currencyLocale: '\tfr-FR',
        lastModifiedDate: '=HYPERLINK("https://example.com","x") 2026-12-04',
      },
    ]),
    AS_A_SPREADSHEET,
  ) as string[][];
  expect(row).toEqual([
    "'@SUM(1+1)",
    "'-2+3",
    'false',
    '',
    "'=1+1",
    '',
    '-12.50',
    '-0.001',
    "'+USD",
    "'\tfr-FR",
    `'=HYPERLINK("https://example.com","x") 2026-12-04`,
  ]);
});
