import { TableClient, TableServiceClient, type TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../config/settings';
import { StorageTimeoutError } from './errors';

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
  /** The SDK's retry options (tests shorten its back-off); its defaults otherwise. */
  retryOptions?: TableServiceClientOptions['retryOptions'],
): TableClients {
  const tableName = (suffix: string) => `${storage.tablePrefix}${suffix}`;
  const common: TableServiceClientOptions = {
    retryOptions,
    additionalPolicies: [{ policy: timeoutPolicy(storage.requestTimeoutMs), position: 'perCall' }],
  };
  if (storage.kind === 'connectionString') {
    const options = { ...common, allowInsecureConnection: isHttp(storage.connectionString) };
    const service = TableServiceClient.fromConnectionString(storage.connectionString, options);
    return {
      service,
      tableName,
      table: (suffix) =>
        TableClient.fromConnectionString(storage.connectionString, tableName(suffix), options),
    };
  }
  const cred = credential();
  const options = { ...common, allowInsecureConnection: storage.tableEndpoint.startsWith('http:') };
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

type PipelinePolicy = NonNullable<TableServiceClientOptions['additionalPolicies']>[number]['policy'];

/**
 * Gives every attempt of a Table request `timeoutMs` to send back its response headers (the SDK's
 * own default is no limit, so a storage endpoint that accepts connections and never answers would
 * hang a run or a read until the Functions host kills it). A timed-out attempt is not retried: it
 * fails with StorageTimeoutError, which the snapshot treats like any storage outage (stop at the
 * checkpoint, resume later) and the API answers with 503.
 */
function timeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'tableRequestTimeout',
    async sendRequest(request, next) {
      request.timeout = timeoutMs;
      try {
        return await next(request);
      } catch (error) {
        const callerAborted = request.abortSignal?.aborted === true;
        if ((error as { name?: unknown } | undefined)?.name === 'AbortError' && !callerAborted) {
          throw new StorageTimeoutError(timeoutMs, request.method, new URL(request.url).pathname);
        }
        throw error;
      }
    },
  };
}
