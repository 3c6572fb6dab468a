import type { TableClient } from '@azure/data-tables';
import { isConflict } from './errors';
import type { TableClients } from './tableClients';

/** The app's tables, by suffix after TABLE_NAME_PREFIX (see docs/internals.md, "Data model"). */
export const USAGE_TABLES = {
  runs: 'Runs',
  customers: 'Customers',
  customerLists: 'CustomerLists',
} as const;

export type UsageTableName = keyof typeof USAGE_TABLES;

export function usageTableClients(tables: TableClients): Record<UsageTableName, TableClient> {
  return {
    runs: tables.table(USAGE_TABLES.runs),
    customers: tables.table(USAGE_TABLES.customers),
    customerLists: tables.table(USAGE_TABLES.customerLists),
  };
}

/** Creates the tables that do not exist yet; safe to call from several processes at once. */
export async function ensureUsageTables(tables: TableClients): Promise<void> {
  await Promise.all(
    Object.values(USAGE_TABLES).map(async (suffix) => {
      try {
        await tables.service.createTable(tables.tableName(suffix));
      } catch (error) {
        // The SDK already treats 409 TableAlreadyExists as success; a table being deleted answers 409 too.
        if (!isConflict(error)) throw error;
      }
    }),
  );
}

/** Drops undefined properties, which Table Storage has no way to store. */
export function defined<T extends Record<string, unknown>>(value: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}
