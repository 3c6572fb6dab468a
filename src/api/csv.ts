import { stringify } from 'csv-stringify/sync';
import type { CustomerRecordBody, ResourceRecordBody, SubscriptionResourcesBody } from './representation';

/**
 * CSV for spreadsheets: one header row, CRLF line ends (RFC 4180), the same column names and
 * exact decimal strings as the JSON. Free-text columns that a spreadsheet would run as a formula
 * (=, +, -, @ first) get a leading apostrophe; amounts are never touched, so "-12.50" stays as is.
 */

export const CUSTOMER_COLUMNS = [
  'customerId',
  'name',
  'isUpgraded',
  'budget',
  'customerSpendingBudget',
  'percentUsed',
  'totalCost',
  'usdTotalCost',
  'currencyCode',
  'currencyLocale',
  'lastModifiedDate',
] as const satisfies readonly (keyof CustomerRecordBody)[];

export const RESOURCE_COLUMNS = [
  'subscriptionId',
  'resourceId',
  'name',
  'category',
  'subcategory',
  'quantityUsed',
  'unit',
  'totalCost',
  'currencyCode',
  'currencyLocale',
] as const;

const TEXT_COLUMNS = new Set(['name', 'category', 'subcategory', 'unit', 'resourceId']);

function defuse(column: string, value: unknown): unknown {
  if (typeof value !== 'string' || !TEXT_COLUMNS.has(column)) return value;
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function toCsv(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const records = rows.map((row) => columns.map((column) => defuse(column, row[column])));
  return stringify(records, {
    header: true,
    columns: [...columns],
    record_delimiter: '\r\n',
    cast: { boolean: (value) => (value ? 'true' : 'false') },
  });
}

export function customersCsv(customers: readonly CustomerRecordBody[]): string {
  return toCsv(CUSTOMER_COLUMNS, customers as unknown as Record<string, unknown>[]);
}

export function resourcesCsv(view: SubscriptionResourcesBody): string {
  const rows = view.resources.map((resource: ResourceRecordBody) => ({
    subscriptionId: view.subscription.subscriptionId,
    ...resource,
  }));
  return toCsv(RESOURCE_COLUMNS, rows);
}
