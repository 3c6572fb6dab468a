import { stringify } from 'csv-stringify/sync';
import type { CustomerRecordBody, SubscriptionResourcesBody } from './representation';
import {
  AzureSubscriptionCostSchema,
  CustomerRecordSchema,
  MeterRecordSchema,
  ResourceGroupCostSchema,
  ResourceRecordSchema,
} from './schemas';

/**
 * CSV for spreadsheets: one header row, CRLF line ends (RFC 4180), the same column names and
 * exact decimal strings as the JSON. Cells are written by `csvCell` (OWASP CSV-injection rules);
 * see docs/security.md.
 */

/** The columns are the record schema's fields, in its order (src/api/schemas.ts). */
export const CUSTOMER_COLUMNS = CustomerRecordSchema.keyof().options;

/** A resource row is its record with the subscription it belongs to first; so are the others below. */
export const RESOURCE_COLUMNS = ['subscriptionId', ...ResourceRecordSchema.keyof().options] as const;
export const METER_COLUMNS = ['subscriptionId', ...MeterRecordSchema.keyof().options] as const;
export const RESOURCE_GROUP_COLUMNS = ['subscriptionId', ...ResourceGroupCostSchema.keyof().options] as const;
export const AZURE_SUBSCRIPTION_COLUMNS = [
  'subscriptionId',
  ...AzureSubscriptionCostSchema.keyof().options,
] as const;

/**
 * Columns whose values are exact decimal numbers. Every other column is text, including ids,
 * currency codes and dates: Partner Center sends them as free strings, and a string that
 * `Date.parse` accepts can still start with `=`.
 */
export const NUMERIC_COLUMNS: ReadonlySet<string> = new Set([
  'budget',
  'customerSpendingBudget',
  'percentUsed',
  'totalCost',
  'usdTotalCost',
  'quantityUsed',
  'resourceCount',
  'resourceGroupCount',
]);

/** A plain decimal number, as the store keeps amounts: data, never a formula, even when negative. */
const DECIMAL = /^-?\d+(\.\d+)?$/;
/** What a spreadsheet runs as a formula (or a DDE call) when a cell starts with it (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell as served, before quoting: text that a spreadsheet would run as a formula gets a
 * leading `'` (OWASP's advice), so it shows as text. A numeric column's value is left as is when
 * it is a plain decimal (so `-12.50` stays a number); anything else found there is treated as text.
 * Quoting (fields holding a comma, quote, CR or LF) is the writer's part, `toCsv`.
 */
export function csvCell(column: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = String(value);
  if (NUMERIC_COLUMNS.has(column) && DECIMAL.test(text)) return text;
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const records = rows.map((row) => columns.map((column) => csvCell(column, row[column])));
  return stringify(records, {
    header: true,
    columns: [...columns],
    record_delimiter: '\r\n',
    // csv-stringify quotes a field holding the whole record delimiter, not a bare CR or LF; a
    // spreadsheet ends the row at either, so quote both.
    quoted_match: /[\r\n]/,
  });
}

export function customersCsv(customers: readonly CustomerRecordBody[]): string {
  return toCsv(CUSTOMER_COLUMNS, customers as unknown as Record<string, unknown>[]);
}

export function resourcesCsv(view: SubscriptionResourcesBody): string {
  return subscriptionRowsCsv(RESOURCE_COLUMNS, view.subscription.subscriptionId, view.resources);
}

/** One row per item of a subscription's list (resources, meters, groups…), its id first. */
export function subscriptionRowsCsv(
  columns: readonly string[],
  subscriptionId: string,
  items: readonly object[],
): string {
  return toCsv(
    columns,
    items.map((item) => ({ subscriptionId, ...item })),
  );
}
