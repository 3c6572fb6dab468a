import { QueueServiceClient } from '@azure/storage-queue';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type { ExportMessage, UsageExportRecord } from '../../src/domain/dailyUsage';
import type { UsageExportClient } from '../../src/graph/usageExportClient';
import { createExportQueue } from '../../src/queues/queueClients';
import { newTableMetrics } from '../../src/storage/partitionWriter';
import { TableUsageExportStore } from '../../src/storage/tableUsageExportStore';
import { createDailyUsageReader } from '../../src/usageExport/dailyUsageReader';
import {
  mergeSlice,
  pollExports,
  processBlob,
  recordPoisonedMessage,
  requestBilledExport,
  startScheduledExports,
  type ExportPipeline,
} from '../../src/usageExport/pipeline';
import { startGraphHarness, type GraphHarness } from '../graph/harness';
import { toUnits } from '../sandbox/support';
import { azuriteConnectionString, testTables } from '../support/tables';

/**
 * The export pipeline step by step, over Azurite (tables and a real queue) and the sandbox's Graph
 * side over HTTP. The test plays the Functions host: it runs the poll timer and hands each queued
 * message to its handler with the dequeue count the host would give, so it can kill a worker
 * mid-blob, redeliver, and exhaust a blob's attempts deterministically. (test/usageExport/
 * localHost.test.ts runs the same pipeline under the local host's real queue trigger.)
 */
jest.setTimeout(120_000);

const NOW = '2026-03-15T12:00:00Z';
const MAX_DEQUEUE = 3;
let graph: GraphHarness;
let queues: QueueServiceClient;

beforeAll(async () => {
  graph = await startGraphHarness({
    sandbox: {
      customers: 10,
      now: NOW,
      freezeClock: true,
      graph: { retryAfterSeconds: 0, blobCount: 3, runningPolls: 1 },
    },
  });
  queues = QueueServiceClient.fromConnectionString(azuriteConnectionString());
});
afterAll(() => graph?.close());
afterEach(() => graph.sandbox.graph.faults.clear());

interface Rig {
  pipeline: ExportPipeline;
  store: TableUsageExportStore;
  /** Receives every message now on the queue (and deletes it), as the host would. */
  drain(): Promise<ExportMessage[]>;
}

async function rig(client: UsageExportClient = graph.client): Promise<Rig> {
  const queueName = `usage-export-${randomBytes(4).toString('hex')}`;
  const queueClient = queues.getQueueClient(queueName);
  await queueClient.create();
  const store = new TableUsageExportStore(testTables(), newTableMetrics());
  await store.ensureTables();
  const pipeline: ExportPipeline = {
    client,
    store,
    queue: createExportQueue(queues, queueName),
    now: () => new Date(),
    logger: graph.logger,
    currencyCode: 'USD',
    maxDequeueCount: MAX_DEQUEUE,
    mergeSliceMs: 60_000,
  };
  return {
    pipeline,
    store,
    drain: async () => {
      const out: ExportMessage[] = [];
      for (;;) {
        const { receivedMessageItems } = await queueClient.receiveMessages({ numberOfMessages: 32 });
        if (receivedMessageItems.length === 0) return out;
        for (const m of receivedMessageItems) {
          out.push(JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as ExportMessage);
          await queueClient.deleteMessage(m.messageId, m.popReceipt);
        }
      }
    },
  };
}

/** Polls until the export's blobs are queued (the sandbox answers `running` once). */
async function pollUntilQueued(r: Rig, exportId: string): Promise<ExportMessage[]> {
  for (let i = 0; i < 10; i++) {
    await pollExports(r.pipeline);
    const messages = await r.drain();
    if (messages.length > 0) return messages;
    const found = await r.store.getExport(exportId);
    if (found && found.record.state !== 'running') return [];
  }
  throw new Error('the export never got its blobs queued');
}

/** Runs blob messages (each once, successfully or not) and then every merge message they lead to. */
async function work(r: Rig, messages: ExportMessage[]): Promise<void> {
  let pending = messages;
  while (pending.length > 0) {
    for (const m of pending) {
      if (m.kind === 'blob') await processBlob(r.pipeline, m, 1).catch(() => undefined);
      else await mergeSlice(r.pipeline, m);
    }
    pending = await r.drain();
  }
}

async function record(r: Rig, exportId: string): Promise<UsageExportRecord> {
  return (await r.store.getExport(exportId))!.record;
}

/** Each sandbox customer's daily totals over March, summed, against its Partner Center usage record. */
async function expectSumsExact(r: Rig, asOf: number): Promise<number> {
  const reader = createDailyUsageReader(r.store);
  let withUsage = 0;
  for (const customer of graph.sandbox.data.customers()) {
    const { points } = await reader.customerDailyUsage(customer.id, 'total', '2026-03-01', '2026-03-31');
    const sum = points.reduce((s, p) => s + toUnits(p.billingTotal), 0n);
    expect({ customer: customer.id, sum }).toEqual({
      customer: customer.id,
      sum: graph.sandbox.customerUsage(customer.index, asOf).totalCost,
    });
    if (sum > 0n) withUsage++;
  }
  return withUsage;
}

function currentExportAsOf(): number {
  const current = graph.sandbox.graph.exports().filter((e) => e.billingPeriod === 'current');
  return current[current.length - 1].asOf;
}

test('when the schedule runs, then the current period is exported, every blob read once, and each customer sums exactly to Partner Center', async () => {
  const r = await rig();
  const started = await startScheduledExports(r.pipeline);
  expect(started.map((s) => s.source.kind === 'unbilled' && s.source.billingPeriod)).toEqual([
    'current',
    'last',
  ]);
  // Both already active: a second schedule run starts nothing.
  expect(await startScheduledExports(r.pipeline)).toEqual([]);
  const current = started[0];
  const messages = await pollUntilQueued(r, current.exportId);
  expect(messages.filter((m) => m.kind === 'blob' && m.exportId === current.exportId)).toHaveLength(3);
  // Messages carry no URL: the SAS stays in the table.
  expect(JSON.stringify(messages)).not.toMatch(/sig=|https?:/);
  await work(r, messages);
  const done = await record(r, current.exportId);
  expect(done).toMatchObject({ state: 'succeeded', blobCount: 3, blobsDone: 3, failedBlobs: [] });
  expect(done.linesRead).toBeGreaterThan(100);
  expect(await expectSumsExact(r, currentExportAsOf())).toBeGreaterThan(3);

  // Later polls delete finished exports' staged rows and blob URLs (one export per poll); the
  // served figures stay.
  await pollExports(r.pipeline);
  await pollExports(r.pipeline);
  expect((await record(r, current.exportId)).cleanedAt).toBeDefined();
  expect(await r.store.getBlobUrl(current.exportId, 0)).toBeUndefined();
  expect(await r.store.customersAfter(current.exportId, undefined, 10)).toEqual([]);
  await expectSumsExact(r, currentExportAsOf());

  // Every grouping adds up to the customer's total.
  const reader = createDailyUsageReader(r.store);
  const someone = [...graph.sandbox.data.customers()][0].id;
  const total = await reader.customerDailyUsage(someone, 'total', '2026-03-01', '2026-03-31');
  for (const dimension of ['subscription', 'resourceGroup', 'meterCategory', 'meter'] as const) {
    const grouped = await reader.customerDailyUsage(someone, dimension, '2026-03-01', '2026-03-31');
    const sum = grouped.points.reduce((s, p) => s + toUnits(p.billingTotal), 0n);
    expect({ dimension, sum }).toEqual({
      dimension,
      sum: total.points.reduce((s, p) => s + toUnits(p.billingTotal), 0n),
    });
  }
});

test('when a worker dies mid-blob (body cut, or after its rows were written but before the ack), then the redelivery counts no line twice', async () => {
  let killSave = true;
  const r = await rig();
  const realSave = r.store.saveBlobResult.bind(r.store);
  // Dies after writing the blob's rows, before its message is acknowledged: the host delivers it again.
  r.store.saveBlobResult = async (...args) => {
    await realSave(...args);
    if (killSave) {
      killSave = false;
      throw new Error('worker killed');
    }
  };
  const [started] = await startScheduledExports(r.pipeline);
  const messages = (await pollUntilQueued(r, started.exportId)).filter(
    (m) => m.exportId === started.exportId,
  );
  const blobs = messages.filter((m) => m.kind === 'blob');
  // The first download is cut halfway (the sandbox resets the connection): nothing is kept of it.
  graph.sandbox.graph.faults.set({ resetNextBlobs: 1 });
  await expect(processBlob(r.pipeline, blobs[0] as never, 1)).rejects.toThrow();
  await expect(processBlob(r.pipeline, blobs[0] as never, 2)).rejects.toThrow('worker killed');
  // Redelivered: already done, skipped; the others run; then the merge.
  expect(await processBlob(r.pipeline, blobs[0] as never, 3)).toBe('skipped');
  await work(r, blobs.slice(1));
  await work(r, await r.drain());
  expect(await record(r, started.exportId)).toMatchObject({ state: 'succeeded', blobsDone: 3 });
  await expectSumsExact(r, currentExportAsOf());
});

test('when the last blobs finish at the same moment, then the export still moves to its merge (a refused record update is tried again)', async () => {
  const r = await rig();
  const [started] = await startScheduledExports(r.pipeline);
  const blobs = (await pollUntilQueued(r, started.exportId)).filter(
    (m) => m.exportId === started.exportId && m.kind === 'blob',
  );
  expect(blobs).toHaveLength(3);
  await processBlob(r.pipeline, blobs[0] as never, 1);
  // Two workers, X (blob 1) and Y (blob 2), both read the export record before either updates it.
  // X saw blob 2 unfinished: its progress update lands first. Y saw every blob done: its move to
  // `merging`, on the ETag both read, lands second and is refused.
  const realSave = r.store.saveExport.bind(r.store);
  const signal = () => {
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => (fire = resolve));
    return { fire, fired };
  };
  const progressWaiting = signal();
  const mergingTried = signal();
  const progressSaved = signal();
  r.store.saveExport = async (next, etag) => {
    if (next.state === 'processing') {
      progressWaiting.fire();
      await mergingTried.fired;
      const saved = await realSave(next, etag);
      progressSaved.fire();
      return saved;
    }
    if (next.state === 'merging') {
      mergingTried.fire();
      await progressSaved.fired;
    }
    return realSave(next, etag);
  };
  const x = processBlob(r.pipeline, blobs[1] as never, 1);
  await progressWaiting.fired;
  const y = processBlob(r.pipeline, blobs[2] as never, 1);
  expect(await Promise.all([x, y])).toEqual(['done', 'done']);
  r.store.saveExport = realSave;
  expect(await record(r, started.exportId)).toMatchObject({ state: 'merging', blobsDone: 3 });
  const merge = await r.drain();
  expect(merge).toEqual([{ kind: 'merge', exportId: started.exportId }]);
  await work(r, merge);
  expect(await record(r, started.exportId)).toMatchObject({ state: 'succeeded', blobsDone: 3 });
});

test('when a blob keeps failing, then on its last attempt it is recorded, the export ends partial naming it, and the rest is served', async () => {
  const failing = (name: string) => name.includes('part-00001');
  const client: UsageExportClient = {
    ...graph.client,
    startExport: (...a) => graph.client.startExport(...a),
    getOperation: (...a) => graph.client.getOperation(...a),
    readManifest: (...a) => graph.client.readManifest(...a),
    openBlob: async (blob, options) => {
      if (!failing(blob.name)) return graph.client.openBlob(blob, options);
      const body = new PassThrough();
      setImmediate(() => body.destroy(new Error('connection reset')));
      return { body: body as Readable };
    },
  };
  const r = await rig(client);
  const started = await requestBilledExport(r.pipeline, 'G202602001');
  const messages = await pollUntilQueued(r, started.exportId);
  const bad = messages.find((m) => m.kind === 'blob' && m.index === 1)!;
  for (let attempt = 1; attempt < MAX_DEQUEUE; attempt++)
    await expect(processBlob(r.pipeline, bad as never, attempt)).rejects.toThrow('connection reset');
  expect((await record(r, started.exportId)).failedBlobs).toEqual([]);
  await expect(processBlob(r.pipeline, bad as never, MAX_DEQUEUE)).rejects.toThrow();
  await work(
    r,
    messages.filter((m) => m !== bad),
  );
  const done = await record(r, started.exportId);
  expect(done.state).toBe('partial');
  expect(done.failedBlobs).toEqual([
    expect.objectContaining({ index: 1, name: expect.stringContaining('part-00001') }),
  ]);
  expect(done.reason).toContain('part-00001');
  expect(done.blobsDone).toBe(2);
});

test('when the SAS expires before the blobs are read, then the export is expired and the next poll starts a new one that completes', async () => {
  const r = await rig();
  const [started] = await startScheduledExports(r.pipeline);
  const messages = (await pollUntilQueued(r, started.exportId)).filter(
    (m) => m.exportId === started.exportId,
  );
  graph.sandbox.graph.expireSas();
  expect(await processBlob(r.pipeline, messages[0] as never, 1)).toBe('expired');
  const expired = await record(r, started.exportId);
  expect(expired.state).toBe('expired');
  expect(JSON.stringify(expired)).not.toMatch(/sig=/);
  // The rest of its messages do nothing now.
  expect(await processBlob(r.pipeline, messages[1] as never, 1)).toBe('skipped');
  await pollExports(r.pipeline);
  const again = (await r.store.listExports(10)).find(
    (e) => e.exportId !== started.exportId && JSON.stringify(e.source) === JSON.stringify(started.source),
  )!;
  expect(again.state).toBe('running');
  await work(
    r,
    (await pollUntilQueued(r, again.exportId)).filter((m) => m.exportId === again.exportId),
  );
  expect((await record(r, again.exportId)).state).toBe('succeeded');
  await expectSumsExact(r, currentExportAsOf());
});

test('when a new export is under way, then readers keep the previous one until the new one is merged, then see only the new one', async () => {
  const r = await rig();
  // February's invoice: both exports bill the same month.
  const february = graph.sandbox.graph.invoiceId(Date.parse('2026-02-15T00:00:00Z'));
  const reader = createDailyUsageReader(r.store);
  const someone = [...graph.sandbox.data.customers()].find(
    (c) => graph.sandbox.customerUsage(c.index, Date.parse('2026-02-28T00:00:00Z')).totalCost > 0n,
  )!.id;
  const first = await requestBilledExport(r.pipeline, february);
  await work(r, await pollUntilQueued(r, first.exportId));
  const before = await reader.customerDailyUsage(someone, 'meter', '2026-02-01', '2026-02-28');
  expect(before.sources.map((s) => s.exportId)).toEqual([first.exportId]);
  expect(before.points.length).toBeGreaterThan(0);

  const second = await requestBilledExport(r.pipeline, february);
  const messages = await pollUntilQueued(r, second.exportId);
  // Every blob of the second export is read and staged; its merge has not run.
  for (const m of messages.filter((m) => m.kind === 'blob')) await processBlob(r.pipeline, m as never, 1);
  const merge = await r.drain();
  expect(merge.map((m) => m.kind)).toEqual(['merge']);
  const during = await reader.customerDailyUsage(someone, 'meter', '2026-02-01', '2026-02-28');
  expect(during).toEqual(before);
  await work(r, merge);
  const after = await reader.customerDailyUsage(someone, 'meter', '2026-02-01', '2026-02-28');
  expect(after.sources.map((s) => s.exportId)).toEqual([second.exportId]);
  // Same sandbox figures (its clock is frozen), so the same points: nothing doubled or mixed.
  expect(after.points).toEqual(before.points);
});

test('when a blob message is gone (poisoned by a dead worker, or lost), then after an hour without progress the poll records it failed and the export ends partial', async () => {
  const r = await rig();
  const [started] = await startScheduledExports(r.pipeline);
  const messages = (await pollUntilQueued(r, started.exportId)).filter(
    (m) => m.exportId === started.exportId,
  );
  const lost = messages.find((m) => m.kind === 'blob' && m.index === 2)!;
  await work(
    r,
    messages.filter((m) => m !== lost),
  );
  // Within the hour: the poll waits for the missing blob.
  await pollExports(r.pipeline);
  expect((await record(r, started.exportId)).state).toBe('processing');
  const later = { ...r.pipeline, now: () => new Date(Date.now() + 61 * 60_000) };
  await pollExports(later);
  await work(r, await r.drain());
  const done = await record(r, started.exportId);
  expect(done.state).toBe('partial');
  expect(done.failedBlobs).toEqual([
    expect.objectContaining({ index: 2, reason: expect.stringContaining('no worker finished it') }),
  ]);
  // A late redelivery of the lost message changes nothing.
  expect(await processBlob(r.pipeline, lost as never, 1)).toBe('skipped');
});

test('when messages reach the poison queue, then a blob not yet recorded is recorded failed at once, a done or failed blob stays as it is, a duplicate changes nothing, and a merge is left to the poll', async () => {
  const r = await rig();
  const [started] = await startScheduledExports(r.pipeline);
  const blobs = (await pollUntilQueued(r, started.exportId)).filter(
    (m) => m.exportId === started.exportId && m.kind === 'blob',
  );
  const [done, handled, dead] = [0, 1, 2].map((i) => blobs.find((m) => m.kind === 'blob' && m.index === i)!);
  // Blob 0 done; blob 1 failed by its handler on the last attempt (then poisoned by the host).
  expect(await processBlob(r.pipeline, done as never, 1)).toBe('done');
  graph.sandbox.graph.faults.set({ resetNextBlobs: 1 });
  await expect(processBlob(r.pipeline, handled as never, MAX_DEQUEUE)).rejects.toThrow();
  const before = await r.store.blobProgress(started.exportId);
  expect(await recordPoisonedMessage(r.pipeline, done)).toBe('unchanged');
  expect(await recordPoisonedMessage(r.pipeline, handled)).toBe('unchanged');
  expect(await r.store.blobProgress(started.exportId)).toEqual(before);
  expect((await record(r, started.exportId)).state).toBe('processing');

  // Blob 2's worker died on its last attempt: its poisoned message is the only news of it.
  expect(await recordPoisonedMessage(r.pipeline, dead)).toBe('recorded');
  const merging = await record(r, started.exportId);
  expect(merging.state).toBe('merging');
  expect(merging.failedBlobs.map((b) => [b.index, b.reason])).toEqual([
    [1, expect.stringContaining('attempt')],
    [2, `its message was poisoned after ${MAX_DEQUEUE} attempts (the worker died or timed out)`],
  ]);
  // A duplicate poison message, and one for a merge: nothing changes, nothing is queued.
  const merge = await r.drain();
  expect(merge.map((m) => m.kind)).toEqual(['merge']);
  expect(await recordPoisonedMessage(r.pipeline, dead)).toBe('skipped');
  expect(await recordPoisonedMessage(r.pipeline, merge[0])).toBe('left to the poll');
  expect(await r.drain()).toEqual([]);
  expect(await record(r, started.exportId)).toEqual(merging);
  await work(r, merge);
  const finished = await record(r, started.exportId);
  expect(finished).toMatchObject({ state: 'partial', blobsDone: 1 });
  expect(await recordPoisonedMessage(r.pipeline, dead)).toBe('skipped');
  expect(await r.store.blobProgress(started.exportId)).toEqual({
    ...before,
    failed: merging.failedBlobs,
  });
});
