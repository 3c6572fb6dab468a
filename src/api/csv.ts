import { stringify } from 'csv-stringify/sync';
import type { CustomerRecordBody, ResourceRecordBody, SubscriptionResourcesBody } from './representation';
import { CustomerRecordSchema, ResourceRecordSchema } from './schemas';

/**
 * CSV for spreadsheets: one header row, CRLF line ends (RFC 4180), the same column names and
 * exact decimal strings as the JSON. Free-text columns that a spreadsheet would run as a formula
 * (=, +, -, @ first) get a leading apostrophe; amounts are never touched, so "-12.50" stays as is.
 */

/** The columns are the record schema's fields, in its order (src/api/schemas.ts). */
export const CUSTOMER_COLUMNS = CustomerRecordSchema.keyof().options;

/** A resource row is its record with the subscription it belongs to first. */
export const RESOURCE_COLUMNS = ['subscriptionId', ...ResourceRecordSchema.keyof().options] as const;

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
