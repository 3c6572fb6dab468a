import { app, type InvocationContext } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { queueOptionsFrom } from '../../dev/localHost/queues';
import { encodeMessage } from '../../src/queues/queueClients';
import { azuriteConnectionString } from '../support/tables';

/**
 * The local host's queue triggers against Azurite's Queue service: the app-style registration
 * (`app.storageQueue` with a %SETTING% queue name and a connection setting) and host.json's
 * `extensions.queues`, as the Functions host reads them.
 */
jest.setTimeout(60_000);

const connection = azuriteConnectionString();
const service = QueueServiceClient.fromConnectionString(connection);
const uniqueQueue = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

interface Probe {
  calls: Array<{ input: unknown; dequeueCount: unknown }>;
  behave: (input: unknown) => Promise<void>;
}
const probes = new Map<string, Probe>();

// One registration per scenario, each on its own queue setting, as the app registers its own.
for (const name of ['once', 'poison', 'batch', 'renew']) {
  const probe: Probe = { calls: [], behave: async () => undefined };
  probes.set(name, probe);
  app.storageQueue(name, {
    queueName: `%${name.toUpperCase()}_QUEUE%`,
    connection: 'TEST_QUEUES',
    handler: async (input: unknown, context: InvocationContext) => {
      probe.calls.push({ input, dequeueCount: context.triggerMetadata?.dequeueCount });
      await probe.behave(input);
    },
  });
}

function hostJson(queues: Record<string, unknown>): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'queue-host-')), 'host.json');
  fs.writeFileSync(file, JSON.stringify({ version: '2.0', extensions: { queues } }));
  return file;
}

async function waitFor(condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function messageCount(queue: string): Promise<number> {
  const client = service.getQueueClient(queue);
  if (!(await client.exists())) return 0;
  return (await client.getProperties()).approximateMessagesCount ?? 0;
}

const queues = {
  ONCE_QUEUE: uniqueQueue('once'),
  POISON_QUEUE: uniqueQueue('poison'),
  BATCH_QUEUE: uniqueQueue('batch'),
  RENEW_QUEUE: uniqueQueue('renew'),
};
let host: LocalHost;
const lines: string[] = [];

beforeAll(async () => {
  for (const queue of Object.values(queues)) await service.getQueueClient(queue).create();
  host = await startLocalHost({
    port: 0,
    functionKey: 'k',
    masterKey: 'm',
    env: { TEST_QUEUES: connection, ...queues },
    hostJsonPath: hostJson({ batchSize: 2, newBatchThreshold: 0, maxDequeueCount: 3 }),
    queueLeaseMs: 2_000,
    log: (line) => lines.push(line),
  });
});
afterAll(() => host?.close());

test('host.json defaults are the host’s: batch 16, threshold 8, visibility 0, 5 dequeues, base64; polling capped at 2 s locally', () => {
  expect(queueOptionsFrom(hostJson({}))).toEqual({
    batchSize: 16,
    newBatchThreshold: 8,
    visibilityTimeoutMs: 0,
    maxDequeueCount: 5,
    maxPollingIntervalMs: 2_000,
    messageEncoding: 'base64',
  });
  expect(
    queueOptionsFrom(hostJson({ visibilityTimeout: '00:00:30', maxPollingInterval: '00:00:01' })),
  ).toMatchObject({ visibilityTimeoutMs: 30_000, maxPollingIntervalMs: 1_000 });
});

test('when a base64 JSON message arrives, then the handler gets it parsed, once, and it leaves the queue', async () => {
  await service.getQueueClient(queues.ONCE_QUEUE).sendMessage(encodeMessage({ runId: 'r-1' }));
  const probe = probes.get('once') as Probe;
  await waitFor(() => probe.calls.length === 1);
  await waitFor(async () => (await messageCount(queues.ONCE_QUEUE)) === 0);
  await new Promise((r) => setTimeout(r, 2_500)); // a redelivery would come within the lease
  expect(probe.calls).toEqual([{ input: { runId: 'r-1' }, dequeueCount: 1 }]);
});

test('when the handler keeps failing, then it is retried until maxDequeueCount and the message lands in <queue>-poison', async () => {
  const probe = probes.get('poison') as Probe;
  probe.behave = async () => {
    throw new Error('handler refuses');
  };
  const text = encodeMessage({ runId: 'r-poison' });
  await service.getQueueClient(queues.POISON_QUEUE).sendMessage(text);
  const poison = service.getQueueClient(`${queues.POISON_QUEUE}-poison`);
  await waitFor(async () => (await messageCount(`${queues.POISON_QUEUE}-poison`)) === 1);
  expect(probe.calls.map((c) => c.dequeueCount)).toEqual([1, 2, 3]);
  expect(await messageCount(queues.POISON_QUEUE)).toBe(0);
  const [moved] = (await poison.peekMessages()).peekedMessageItems;
  expect(moved.messageText).toBe(text);
});

test('when many messages wait, then at most batchSize + newBatchThreshold run at once, and all run', async () => {
  const probe = probes.get('batch') as Probe;
  let running = 0;
  let most = 0;
  probe.behave = async () => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 300));
    running--;
  };
  const client = service.getQueueClient(queues.BATCH_QUEUE);
  for (let i = 0; i < 7; i++) await client.sendMessage(encodeMessage({ i }));
  await waitFor(() => probe.calls.length === 7);
  expect(most).toBe(2);
  expect(probe.calls.map((c) => (c.input as { i: number }).i).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
});

test('when a handler runs longer than the lease, then the message stays invisible (renewed) and runs once', async () => {
  const probe = probes.get('renew') as Probe;
  probe.behave = () => new Promise((r) => setTimeout(r, 5_000)); // 2.5 leases of 2 s
  await service.getQueueClient(queues.RENEW_QUEUE).sendMessage(encodeMessage({ slow: true }));
  await waitFor(() => probe.calls.length === 1);
  // Past the first lease: another consumer must still find nothing to take.
  await new Promise((r) => setTimeout(r, 3_000));
  const stolen = await service.getQueueClient(queues.RENEW_QUEUE).receiveMessages({ visibilityTimeout: 1 });
  expect(stolen.receivedMessageItems).toEqual([]);
  await waitFor(async () => (await messageCount(queues.RENEW_QUEUE)) === 0, 15_000);
  expect(probe.calls).toHaveLength(1);
  expect(lines.filter((l) => l.includes('renewing'))).toEqual([]);
});
