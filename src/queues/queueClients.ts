import type { TokenCredential } from '@azure/identity';
import { QueueServiceClient, RestError, type QueueClient } from '@azure/storage-queue';
import type { Settings } from '../config/settings';
import type { ExportQueue } from '../domain/dailyUsage';
import type { RunRequestMessage, RunRequestQueue } from '../domain/runQueue';

/**
 * The Storage queues from settings: a connection string (Azurite, local) or the queue service
 * endpoint reached with a token credential (Azure, the app's managed identity), exactly the two
 * forms the Functions host accepts for the trigger's `QUEUE_STORAGE` connection.
 */
export function createQueueService(
  queues: NonNullable<Settings['queues']>,
  credential: () => TokenCredential,
): QueueServiceClient {
  if (queues.kind === 'connectionString')
    return QueueServiceClient.fromConnectionString(queues.connectionString);
  return new QueueServiceClient(queues.queueServiceUri, credential());
}

/**
 * Messages as the host's queue trigger reads them by default (host.json
 * `extensions.queues.messageEncoding`: base64): UTF-8 JSON, base64-encoded.
 */
export function encodeMessage(body: unknown): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64');
}

/** Sends to `client`, creating the queue once when it does not exist yet (a fresh Azurite). */
export async function sendMessage(client: QueueClient, text: string): Promise<void> {
  try {
    await client.sendMessage(text);
  } catch (error) {
    if (!(error instanceof RestError) || error.statusCode !== 404) throw error;
    await client.createIfNotExists();
    await client.sendMessage(text);
  }
}

/** The snapshot-request queue (SNAPSHOT_REQUEST_QUEUE) behind the domain's small interface. */
export function createRunRequestQueue(service: QueueServiceClient, queueName: string): RunRequestQueue {
  const client = service.getQueueClient(queueName);
  return {
    request: (runId) => sendMessage(client, encodeMessage({ runId } satisfies RunRequestMessage)),
  };
}

/** The usage export's work queue (USAGE_EXPORT_QUEUE): blob and merge messages. */
export function createExportQueue(service: QueueServiceClient, queueName: string): ExportQueue {
  const client = service.getQueueClient(queueName);
  return { send: (message) => sendMessage(client, encodeMessage(message)) };
}
