import { InvocationContext } from '@azure/functions';
import {
  QueueServiceClient,
  RestError,
  type DequeuedMessageItem,
  type QueueClient,
} from '@azure/storage-queue';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { triggerOf, type RegisteredFunction } from './functionsCore';

/**
 * host.json `extensions.queues`, with the Functions host's defaults (QueuesOptions of the Storage
 * Queues extension 5.x). `maxPollingIntervalMs` is capped locally (see LOCAL_MAX_POLLING_MS).
 */
export interface QueueHostOptions {
  batchSize: number;
  newBatchThreshold: number;
  visibilityTimeoutMs: number;
  maxDequeueCount: number;
  maxPollingIntervalMs: number;
  messageEncoding: 'base64' | 'none';
}

/**
 * The local host polls an idle queue at most this far apart, where the Functions host backs off
 * to a minute: a message put on the queue by `npm start`'s own API is picked up within 2 s.
 */
export const LOCAL_MAX_POLLING_MS = 2_000;
/** The first gap after an empty poll; it doubles up to maxPollingIntervalMs. */
const MIN_POLLING_MS = 100;
/**
 * How long a received message stays invisible before it is renewed (the host: 10 minutes, renewed
 * halfway). Short locally, so a killed `npm start` gives its messages back within seconds.
 */
export const DEFAULT_LEASE_MS = 30_000;

const OVERRIDE_PREFIX = 'AzureFunctionsJobHost__extensions__queues__';

/**
 * Reads `extensions.queues` from host.json; absent values take the host's defaults. As in Azure,
 * an app setting `AzureFunctionsJobHost__extensions__queues__<name>` in `env` overrides host.json.
 */
export function queueOptionsFrom(
  hostJsonPath: string,
  maxPollingCapMs = LOCAL_MAX_POLLING_MS,
  env: NodeJS.ProcessEnv = {},
): QueueHostOptions {
  const hostJson = JSON.parse(fs.readFileSync(hostJsonPath, 'utf8')) as {
    extensions?: { queues?: Record<string, unknown> };
  };
  const queues: Record<string, unknown> = { ...hostJson.extensions?.queues };
  for (const [name, value] of Object.entries(env))
    if (name.startsWith(OVERRIDE_PREFIX) && value !== undefined)
      queues[name.slice(OVERRIDE_PREFIX.length)] = /^\d+$/.test(value) ? Number(value) : value;
  const batchSize = Number(queues.batchSize ?? 16);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 32)
    throw new Error(`host.json extensions.queues.batchSize ${String(queues.batchSize)} is not 1-32`);
  const encoding = String(queues.messageEncoding ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none')
    throw new Error(`host.json extensions.queues.messageEncoding ${encoding} is not base64 or none`);
  return {
    batchSize,
    newBatchThreshold: Number(queues.newBatchThreshold ?? Math.floor(batchSize / 2)),
    visibilityTimeoutMs: durationMs(queues.visibilityTimeout, 0),
    maxDequeueCount: Number(queues.maxDequeueCount ?? 5),
    maxPollingIntervalMs: Math.min(durationMs(queues.maxPollingInterval, 60_000), maxPollingCapMs),
    messageEncoding: encoding,
  };
}

/** host.json durations: a TimeSpan ("hh:mm:ss", "d.hh:mm:ss") or, for maxPollingInterval, milliseconds. */
function durationMs(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'number') return value;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(String(value));
  if (!match) throw new Error(`host.json duration "${String(value)}" is not hh:mm:ss`);
  const [, days, hours, minutes, seconds] = match;
  return Math.round(
    ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(seconds)) * 1000,
  );
}

export interface QueueTriggerOptions {
  functions: readonly RegisteredFunction[];
  options: QueueHostOptions;
  /** Where %NAME% in queue names and the connection settings are read. */
  env: NodeJS.ProcessEnv;
  invoke: (fn: RegisteredFunction, input: unknown, context: InvocationContext) => Promise<unknown>;
  log: (line: string) => void;
  leaseMs?: number;
}

export interface QueueTriggers {
  close(): Promise<void>;
}

/**
 * Runs the app's queue-triggered functions as the Functions host does: polls each queue (backing
 * off while it is empty), hands messages to the handler up to batchSize + newBatchThreshold at a
 * time, keeps a message invisible while its handler runs, deletes it on success, makes it visible
 * again after visibilityTimeout on failure, and after maxDequeueCount failures moves it to
 * `<queue>-poison`. A function whose connection setting is unset is not started (logged).
 */
export function startQueueTriggers(options: QueueTriggerOptions): QueueTriggers {
  const pollers: Array<{ stop(): Promise<void> }> = [];
  for (const fn of options.functions) {
    const trigger = triggerOf(fn);
    const connection = String(trigger.connection ?? 'AzureWebJobsStorage');
    const connectionString = options.env[connection];
    if (!connectionString) {
      options.log(`[${fn.name}] queue trigger not started: ${connection} is not set`);
      continue;
    }
    const queueName = resolveQueueName(fn, options.env);
    const service = QueueServiceClient.fromConnectionString(connectionString);
    pollers.push(
      poll(fn, service.getQueueClient(queueName), service.getQueueClient(`${queueName}-poison`), options),
    );
  }
  return {
    close: async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    },
  };
}

/** `%NAME%` in a queue name is resolved from app settings, as the host does; unset is an error. */
export function resolveQueueName(fn: RegisteredFunction, env: NodeJS.ProcessEnv): string {
  return String(triggerOf(fn).queueName ?? '').replace(/%([^%]+)%/g, (_, name: string) => {
    const value = env[name];
    if (!value) throw new Error(`Function "${fn.name}": queue name setting ${name} is not set`);
    return value;
  });
}

function poll(
  fn: RegisteredFunction,
  queue: QueueClient,
  poison: QueueClient,
  { options, invoke, log, leaseMs = DEFAULT_LEASE_MS }: QueueTriggerOptions,
): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function receive(): Promise<DequeuedMessageItem[]> {
    try {
      const response = await queue.receiveMessages({
        numberOfMessages: options.batchSize,
        visibilityTimeout: Math.ceil(leaseMs / 1000),
      });
      return response.receivedMessageItems;
    } catch (error) {
      // The host treats a queue that does not exist yet as empty.
      if (!(error instanceof RestError && error.statusCode === 404))
        log(`[${fn.name}] polling ${queue.name} failed: ${firstLine(error)}`);
      return [];
    }
  }

  async function handle(message: DequeuedMessageItem): Promise<void> {
    let popReceipt = message.popReceipt;
    // A message that already failed maxDequeueCount times (its worker died) goes straight to poison.
    if (message.dequeueCount > options.maxDequeueCount) {
      await toPoison(message, popReceipt);
      return;
    }
    const renewEvery = Math.max(leaseMs / 2, 250);
    let renewing = Promise.resolve();
    const renew = setInterval(() => {
      renewing = renewing
        .then(async () => {
          popReceipt = (
            await queue.updateMessage(message.messageId, popReceipt, undefined, Math.ceil(leaseMs / 1000))
          ).popReceipt as string;
        })
        .catch((error: unknown) =>
          log(`[${fn.name}] renewing message ${message.messageId} failed: ${firstLine(error)}`),
        );
    }, renewEvery);
    let failure: unknown;
    try {
      const text =
        options.messageEncoding === 'base64' ? decodeBase64(message.messageText) : message.messageText;
      await invoke(fn, parsed(text), contextFor(fn, message, text, log));
    } catch (error) {
      failure = error;
    } finally {
      clearInterval(renew);
      await renewing;
    }
    if (failure === undefined) {
      await queue.deleteMessage(message.messageId, popReceipt);
      return;
    }
    log(
      `[${fn.name}] failed (dequeue count ${message.dequeueCount} of ${options.maxDequeueCount}): ${firstLine(failure)}`,
    );
    if (message.dequeueCount >= options.maxDequeueCount) await toPoison(message, popReceipt);
    else
      await queue.updateMessage(
        message.messageId,
        popReceipt,
        undefined,
        Math.ceil(options.visibilityTimeoutMs / 1000),
      );
  }

  async function toPoison(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    await poison.createIfNotExists();
    await poison.sendMessage(message.messageText);
    await queue.deleteMessage(message.messageId, popReceipt);
    log(`[${fn.name}] message ${message.messageId} moved to ${poison.name}`);
  }

  const loop = (async () => {
    let gap = MIN_POLLING_MS;
    while (!stopped) {
      if (inFlight.size > options.newBatchThreshold) {
        await Promise.race(inFlight);
        continue;
      }
      const messages = await receive();
      if (stopped) {
        // Received during shutdown: give them back at once rather than after the lease.
        await Promise.allSettled(
          messages.map((m) => queue.updateMessage(m.messageId, m.popReceipt, undefined, 0)),
        );
        break;
      }
      if (messages.length === 0) {
        await pause(gap);
        gap = Math.min(gap * 2, options.maxPollingIntervalMs);
        continue;
      }
      gap = MIN_POLLING_MS;
      for (const message of messages) {
        const work: Promise<void> = handle(message)
          .catch((error: unknown) => log(`[${fn.name}] message ${message.messageId}: ${firstLine(error)}`))
          .finally(() => inFlight.delete(work));
        inFlight.add(work);
      }
    }
  })();

  return {
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
      await Promise.allSettled(inFlight);
    },
  };
}

/** Strict base64, as the host's decoder: anything else is a failure of that message. */
function decodeBase64(text: string): string {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0)
    throw new Error('the message is not base64 (host.json extensions.queues.messageEncoding is base64)');
  return Buffer.from(text, 'base64').toString('utf8');
}

/** The Node worker hands a JSON message over parsed, anything else as a string. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function contextFor(
  fn: RegisteredFunction,
  message: DequeuedMessageItem,
  text: string,
  log: (line: string) => void,
): InvocationContext {
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName: fn.name,
    triggerMetadata: {
      id: message.messageId,
      dequeueCount: message.dequeueCount,
      insertionTime: message.insertedOn.toISOString(),
      expirationTime: message.expiresOn.toISOString(),
      nextVisibleTime: message.nextVisibleOn.toISOString(),
      popReceipt: message.popReceipt,
      queueTrigger: text,
    },
    logHandler: (level, ...args) =>
      log(
        `[${fn.name}] ${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`,
      ),
  });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}
