import { QueueServiceClient } from '@azure/storage-queue';
import { randomBytes } from 'node:crypto';
import { sandboxAppEnv } from '../../bench/support/appEnv';
import { dependencies, resetDependencies } from '../../src/app/dependencies';
import { resetSettingsCache } from '../../src/config/settings';
import { memoryLogger } from '../../src/observability/logger';
import { exportPipeline } from '../../src/usageExport/exportDependencies';
import { pollExports, requestBilledExport } from '../../src/usageExport/pipeline';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { azuriteConnectionString, uniqueTablePrefix } from '../support/tables';

/**
 * A worker that dies on a blob's last attempt, under the local host's queue semantics (Azurite's
 * queue service, host.json's maxDequeueCount, the `-poison` queue): the handler never runs that
 * attempt's `failed` branch, the host moves the message to `<queue>-poison` without a handler run,
 * and the usageExportPoison function records the blob failed at once, so the export ends
 * `partial` in seconds rather than after the poll's hour-long stalled sweep.
 *
 * A killed worker is, on the wire, a message received (its dequeue count raised) and never
 * deleted: this test is that worker, receiving the blob's message once per allowed attempt and
 * dying each time, before the local host's trigger is started.
 */
jest.setTimeout(120_000);

const NOW = '2026-03-15T12:00:00Z';
const MAX_DEQUEUE = 2;
const LEASE_MS = 1_000;
let sandbox: Sandbox;
let host: LocalHost | undefined;
const lines: string[] = [];
let queueName: string;
let queues: QueueServiceClient;

beforeAll(async () => {
  sandbox = await startSandbox({
    customers: 8,
    now: NOW,
    freezeClock: true,
    graph: { retryAfterSeconds: 0, blobCount: 3, runningPolls: 1 },
  });
  queueName = `usage-export-${randomBytes(4).toString('hex')}`;
  Object.assign(
    process.env,
    sandboxAppEnv(azuriteConnectionString(), sandbox, {
      GRAPH_BASE_URL: sandbox.graph.baseUrl,
      QUEUE_STORAGE: azuriteConnectionString(),
      USAGE_EXPORT_QUEUE: queueName,
      TABLE_NAME_PREFIX: uniqueTablePrefix('uxp'),
      // As Azure's app-setting override of host.json: both the host and the app read it.
      AzureFunctionsJobHost__extensions__queues__maxDequeueCount: String(MAX_DEQUEUE),
    }),
  );
  resetSettingsCache();
  resetDependencies();
  queues = QueueServiceClient.fromConnectionString(azuriteConnectionString());
  await queues.getQueueClient(queueName).create();
  const { registerFunctions } = await import('../../src/functions/register');
  registerFunctions({ only: ['usageExportWork', 'usageExportPoison'] });
});
afterAll(async () => {
  await host?.close();
  await sandbox?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) return found;
    await sleep(200);
  }
  throw new Error(`${what} did not happen:\n${lines.slice(-30).join('\n')}`);
}

test('when the worker dies on a blob’s last attempt, then its poisoned message records the blob failed and the export ends partial within seconds; a duplicate poison message changes nothing', async () => {
  const logger = memoryLogger();
  const pipeline = exportPipeline(dependencies(), logger);
  expect(pipeline.maxDequeueCount).toBe(MAX_DEQUEUE);
  const invoiceId = sandbox.graph.invoiceId(Date.parse('2026-02-15T00:00:00Z'));
  const started = await requestBilledExport(pipeline, invoiceId);
  const work = queues.getQueueClient(queueName);
  // The poll queues one message per blob (the sandbox answers `running` once first).
  await waitFor('the blobs queued', async () => {
    await pollExports(pipeline);
    const found = await pipeline.store.getExport(started.exportId);
    return found?.record.state === 'processing' ? true : undefined;
  });
  const texts: string[] = [];
  for (;;) {
    const { receivedMessageItems } = await work.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) break;
    for (const m of receivedMessageItems) {
      texts.push(m.messageText);
      await work.deleteMessage(m.messageId, m.popReceipt);
    }
  }
  const decoded = texts.map(
    (t) => JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as { index?: number },
  );
  expect(decoded.map((m) => m.index).sort()).toEqual([0, 1, 2]);
  const doomed = texts[decoded.findIndex((m) => m.index === 1)];

  // Blob 1 alone on the queue: every attempt's worker dies (receives it, never deletes it).
  await work.sendMessage(doomed);
  for (let attempt = 1; attempt <= MAX_DEQUEUE; attempt++) {
    const received = await waitFor(`attempt ${attempt}`, async () => {
      const { receivedMessageItems } = await work.receiveMessages({
        numberOfMessages: 1,
        visibilityTimeout: LEASE_MS / 1000,
      });
      return receivedMessageItems[0];
    });
    expect(received.dequeueCount).toBe(attempt);
  }
  for (const text of texts.filter((t) => t !== doomed)) await work.sendMessage(text);

  const t0 = Date.now();
  host = await startLocalHost({
    port: 0,
    functionKey: 'fk',
    masterKey: 'mk',
    timers: false,
    queues: true,
    queueOptions: { visibilityTimeoutMs: 0 },
    queueLeaseMs: LEASE_MS,
    log: (line) => lines.push(line),
  });
  const done = await waitFor('the export finished', async () => {
    const found = await pipeline.store.getExport(started.exportId);
    return found && ['succeeded', 'partial', 'failed'].includes(found.record.state)
      ? found.record
      : undefined;
  });
  const elapsedMs = Date.now() - t0;
  // No poll ran since the blobs were queued: the poison trigger finished it, not the stalled sweep.
  expect(done.state).toBe('partial');
  expect(done.failedBlobs).toEqual([
    {
      index: 1,
      name: expect.stringContaining('part-00001'),
      reason: `its message was poisoned after ${MAX_DEQUEUE} attempts (the worker died or timed out)`,
    },
  ]);
  expect(done.reason).toContain('part-00001');
  expect(done.blobsDone).toBe(2);
  expect(elapsedMs).toBeLessThan(60_000);
  console.log(`poisoned blob recorded and export partial ${elapsedMs} ms after the host started`);
  // The host poisoned it without a handler run; the poison function recorded it.
  expect(lines.some((l) => l.includes(`moved to ${queueName}-poison`))).toBe(true);
  expect(
    lines.filter((l) => l.startsWith('[usageExportWork]') && l.includes(`${started.exportId}#1`)),
  ).toEqual([]);
  expect(
    lines.some((l) => l.startsWith('[usageExportPoison]') && l.includes(`${started.exportId}#1: recorded`)),
  ).toBe(true);

  // The same poison message again: consumed, nothing changes.
  const poison = queues.getQueueClient(`${queueName}-poison`);
  await poison.sendMessage(doomed);
  await waitFor('the duplicate consumed', async () =>
    lines.filter((l) => l.startsWith('[usageExportPoison]') && l.includes(`${started.exportId}#1:`)).length >=
    2
      ? true
      : undefined,
  );
  await waitFor('the poison queue empty', async () =>
    (await poison.getProperties()).approximateMessagesCount === 0 ? true : undefined,
  );
  expect((await pipeline.store.getExport(started.exportId))?.record).toEqual(done);
  expect(await queues.getQueueClient(`${queueName}-poison-poison`).exists()).toBe(false);
});
