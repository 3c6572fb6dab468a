import {
  RestError,
  TableClient,
  TableServiceClient,
  type TableServiceClientOptions,
} from '@azure/data-tables';
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
    additionalPolicies: [{ policy: timeoutPolicy(storage.requestTimeoutMs), position: 'perRetry' }],
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
 * Gives every attempt of a Table request `timeoutMs`, from sending it to its whole body received
 * (the SDK's own default is no limit, so a storage endpoint that accepts connections and never
 * answers would hang a run or a read until the Functions host kills it). It sits in the pipeline
 * after the SDK's retry policy, so it times each attempt:
 * - a request's first timed-out attempt fails like a dropped connection (RestError ETIMEDOUT),
 *   which the SDK retries on a new socket: a keep-alive socket that a load balancer dropped
 *   without a word hangs exactly this way, and a fresh one usually answers;
 * - its second fails with StorageTimeoutError, which the SDK does not retry: storage is silent.
 * The snapshot treats either like any storage outage (stop, resume from the checkpoint later);
 * the API answers 503. A caller's own abort still surfaces as the SDK's AbortError.
 */
function timeoutPolicy(timeoutMs: number): PipelinePolicy {
  const timedOutOnce = new WeakSet<object>();
  return {
    name: 'tableRequestTimeout',
    async sendRequest(request, next) {
      const callerSignal = request.abortSignal;
      const controller = new AbortController();
      const forward = () => controller.abort();
      if (callerSignal?.aborted) controller.abort();
      else callerSignal?.addEventListener('abort', forward, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      request.abortSignal = controller.signal;
      try {
        return await next(request);
      } catch (error) {
        if (!timedOut || callerSignal?.aborted) throw error;
        const path = new URL(request.url).pathname;
        if (timedOutOnce.has(request)) throw new StorageTimeoutError(timeoutMs, request.method, path);
        timedOutOnce.add(request);
        throw new RestError(
          `Table Storage did not answer ${request.method} ${path} within ${timeoutMs / 1000} s`,
          { code: 'ETIMEDOUT', request },
        );
      } finally {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', forward);
        request.abortSignal = callerSignal;
      }
    },
  };
}
