import { randomBytes } from 'node:crypto';
import { createTableClients, type TableClients } from '../../src/storage/tableClients';

/** The shared test Azurite, started by jest's global setup. */
export function azuriteConnectionString(): string {
  const value = process.env.TEST_AZURITE_CONNECTION_STRING;
  if (!value) throw new Error('TEST_AZURITE_CONNECTION_STRING is unset: run tests through jest (npm test)');
  return value;
}

/** A table-name prefix no other test file uses, so files never see each other's rows. */
export function uniqueTablePrefix(label = 't'): string {
  return `${label.replace(/[^A-Za-z0-9]/g, '')}${randomBytes(5).toString('hex')}`.replace(/^(\d)/, 't$1');
}

/** Table clients over a connection string (the shared Azurite unless told), as the app builds them. */
export function testTables(
  options: {
    connectionString?: string;
    tablePrefix?: string;
    requestTimeoutMs?: number;
    retryOptions?: Parameters<typeof createTableClients>[2];
  } = {},
): TableClients {
  return createTableClients(
    {
      kind: 'connectionString',
      connectionString: options.connectionString ?? azuriteConnectionString(),
      tablePrefix: options.tablePrefix ?? uniqueTablePrefix(),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    },
    () => {
      throw new Error('no credential needed with a connection string');
    },
    options.retryOptions,
  );
}
