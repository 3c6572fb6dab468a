import { TableClient, TableServiceClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/settings';

/**
 * Builds Table clients from settings: a connection string (Azurite, local) or an endpoint reached
 * with a token credential (Azure, managed identity). Create these once per process.
 */
export interface TableClients {
  service: TableServiceClient;
  table(suffix: string): TableClient;
  /** Full table name for a suffix, e.g. "usage" + "Runs". */
  tableName(suffix: string): string;
}

export function createTableClients(
  storage: Settings['storage'],
  credential: () => TokenCredential,
): TableClients {
  const tableName = (suffix: string) => `${storage.tablePrefix}${suffix}`;
  if (storage.kind === 'connectionString') {
    const options = { allowInsecureConnection: isHttp(storage.connectionString) };
    const service = TableServiceClient.fromConnectionString(storage.connectionString, options);
    return {
      service,
      tableName,
      table: (suffix) =>
        TableClient.fromConnectionString(storage.connectionString, tableName(suffix), options),
    };
  }
  const cred = credential();
  const options = { allowInsecureConnection: storage.tableEndpoint.startsWith('http:') };
  return {
    service: new TableServiceClient(storage.tableEndpoint, cred, options),
    tableName,
    table: (suffix) => new TableClient(storage.tableEndpoint, tableName(suffix), cred, options),
  };
}

function isHttp(connectionString: string): boolean {
  return (
    /UseDevelopmentStorage=true/i.test(connectionString) ||
    /DefaultEndpointsProtocol=http(;|$)/i.test(connectionString) ||
    /Endpoint=http:/i.test(connectionString)
  );
}
