import { InvocationContext } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { randomBytes } from 'node:crypto';
import { sandboxAppEnv } from '../../bench/support/appEnv';
import { resetDependencies } from '../../src/app/dependencies';
import { resetSettingsCache } from '../../src/config/settings';
import { registeredFunctions } from '../../dev/localHost/functionsCore';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { azuriteConnectionString, uniqueTablePrefix } from '../support/tables';

/**
 * POST /api/v1/snapshots through the app's own registrations and the local host: the run is
 * recorded, its message goes on the request queue, and the queue trigger runs it. Delivery is at
 * least once, so a duplicated message must not start a second run or write twice.
 */
jest.setTimeout(90_000);

const queueName = `snapshot-requests-${randomBytes(4).toString('hex')}`;
const queues = QueueServiceClient.fromConnectionString(azuriteConnectionString());
let sandbox: Sandbox;
let host: LocalHost;
const lines: string[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ customers: 8 });
  Object.assign(
    process.env,
    sandboxAppEnv(azuriteConnectionString(), sandbox, {
      QUEUE_STORAGE: azuriteConnectionString(),
      SNAPSHOT_REQUEST_QUEUE: queueName,
      TABLE_NAME_PREFIX: uniqueTablePrefix('rq'),
      PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
    }),
  );
  resetSettingsCache();
  resetDependencies();
  const { registerFunctions } = await import('../../src/functions/register');
  registerFunctions({ only: ['snapshots', 'snapshotRequest'] });
  // Queue triggers only: no timer could run the requested run behind the queue's back.
  host = await startLocalHost({
    port: 0,
    functionKey: 'fk',
    masterKey: 'mk',
    timers: false,
    queues: true,
    log: (line) => lines.push(line),
  });
});
afterAll(async () => {
  await host?.close();
  await sandbox?.close();
});

const master = { 'x-functions-key': 'mk' };
async function runs(): Promise<
  Array<{ runId: string; state: string; counts: { customersWritten: number } }>
> {
  const res = await fetch(`${host.url}/api/v1/snapshots`, { headers: master });
  return (
    (await res.json()) as {
      data: Array<{ runId: string; state: string; counts: { customersWritten: number } }>;
    }
  ).data;
}
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the app registers the request queue trigger on %SNAPSHOT_REQUEST_QUEUE% with the QUEUE_STORAGE connection', () => {
  const fn = registeredFunctions().find((f) => f.name === 'snapshotRequest');
  const trigger = Object.values(fn?.bindings ?? {}).find((b) => b.type === 'queueTrigger');
  expect(trigger).toMatchObject({ queueName: '%SNAPSHOT_REQUEST_QUEUE%', connection: 'QUEUE_STORAGE' });
});

test('when a run is asked for, then 202 and its message starts it through the queue trigger', async () => {
  const accepted = await fetch(`${host.url}/api/v1/snapshots`, { method: 'POST', headers: master });
  expect(accepted.status).toBe(202);
  const { data: run } = (await accepted.json()) as { data: { runId: string } };

  const [finished] = await until(runs, (list) => list[0]?.state === 'succeeded');
  expect(finished).toMatchObject({ runId: run.runId, state: 'succeeded', counts: { customersWritten: 8 } });
  expect(
    lines.some((l) => l.includes(`[snapshotRequest] information: snapshot request ${run.runId}: finished`)),
  ).toBe(true);
});

test('when the same request is delivered twice at once (at-least-once), then one invocation runs it and no second run starts', async () => {
  const { dependencies } = await import('../../src/app/dependencies');
  const { snapshotRequestHandler } = await import('../../src/functions/queueFunctions');
  const run = await dependencies().usageStore.requestRun('manual');
  const outcomes: string[] = [];
  const context = () =>
    new InvocationContext({
      functionName: 'snapshotRequest',
      logHandler: (_level, ...args) => outcomes.push(String(args[0])),
    });
  await Promise.all([
    snapshotRequestHandler({ runId: run.runId }, context()),
    snapshotRequestHandler({ runId: run.runId }, context()),
  ]);
  // A third, late delivery finds nothing left to do.
  await snapshotRequestHandler({ runId: run.runId }, context());

  const kinds = outcomes
    .filter((line) => line.startsWith('snapshot request '))
    .map((line) => line.split(': ').pop())
    .sort();
  expect(kinds.filter((k) => k === 'finished')).toHaveLength(1);
  expect(kinds).toHaveLength(3);
  const list = await runs();
  expect(list).toHaveLength(2);
  expect(list[0]).toMatchObject({ runId: run.runId, state: 'succeeded', counts: { customersWritten: 8 } });
});

test('when the queue is empty again, no message is left behind in it or its poison queue', async () => {
  const count = async (name: string) => {
    const client = queues.getQueueClient(name);
    return (await client.exists()) ? ((await client.getProperties()).approximateMessagesCount ?? 0) : 0;
  };
  expect(
    await until(
      () => count(queueName),
      (n) => n === 0,
    ),
  ).toBe(0);
  expect(await count(`${queueName}-poison`)).toBe(0);
});
