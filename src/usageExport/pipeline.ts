import type { TransactionAction } from '@azure/data-tables';
import type { Readable } from 'node:stream';
import {
  FINISHED_STATES,
  type BlobMessage,
  type ExportMessage,
  type ExportQueue,
  type ExportSource,
  type MergeMessage,
  type UsageExportRecord,
} from '../domain/dailyUsage';
import type { UsageExportClient } from '../graph/usageExportClient';
import type { Logger } from '../observability/logger';
import { newRunId } from '../storage/keys';
import type { TableUsageExportStore } from '../storage/tableUsageExportStore';
import { readBlob } from './readBlob';

/**
 * The usage export pipeline (docs/internals.md, "The usage export pipeline"). Each entry is one
 * short step a trigger runs; none waits for Graph: the export's operation is recorded and asked
 * again by the next poll, its blobs are queued one message each, and the merge goes customer by
 * customer in time-bounded slices, each slice's last act queuing the next.
 */
export interface ExportPipeline {
  client: UsageExportClient;
  store: TableUsageExportStore;
  queue: ExportQueue;
  now: () => Date;
  logger: Logger;
  /** USAGE_EXPORT_CURRENCY: the unbilled exports' currency. */
  currencyCode: string;
  /** host.json `maxDequeueCount`: on the last attempt a failing blob is recorded failed. */
  maxDequeueCount: number;
  /** How long one merge invocation goes on before it queues the rest. */
  mergeSliceMs: number;
}

/** Operations left running longer than this are given up. */
const OPERATION_TIMEOUT_MS = 24 * 3600_000;
const DEFAULT_POLL_MS = 60_000;
const RECENT_EXPORTS = 50;
/**
 * A processing export without progress for this long has blobs no worker will finish: a message
 * poisoned by a worker that died on its last attempt (the host moves it without a handler run),
 * or one lost. Twice the Functions timeout, so no running attempt is taken for dead.
 */
const STALLED_AFTER_MS = 60 * 60_000;

const isActive = (r: UsageExportRecord) => !FINISHED_STATES.includes(r.state);
const sameSource = (a: ExportSource, b: ExportSource) => JSON.stringify(a) === JSON.stringify(b);

function monthOf(date: Date, back = 0): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - back, 1));
  return d.toISOString().slice(0, 7);
}

/**
 * The schedule: the current period's unbilled export, and the previous period's while it is not
 * billed yet (until one of its exports answered "No data available" or a billed export for that
 * month succeeded). A source with an export still active is left alone.
 */
export async function startScheduledExports(p: ExportPipeline): Promise<UsageExportRecord[]> {
  const now = p.now();
  const recent = await p.store.listExports(RECENT_EXPORTS);
  const current: ExportSource = {
    kind: 'unbilled',
    billingPeriod: 'current',
    currencyCode: p.currencyCode,
    month: monthOf(now),
  };
  const last: ExportSource = {
    kind: 'unbilled',
    billingPeriod: 'last',
    currencyCode: p.currencyCode,
    month: monthOf(now, 1),
  };
  const lastBilled = recent.some(
    (r) =>
      r.source.kind === 'unbilled' &&
      r.source.billingPeriod === 'last' &&
      r.source.month === last.month &&
      r.state === 'noData',
  );
  const started: UsageExportRecord[] = [];
  for (const source of lastBilled ? [current] : [current, last]) {
    if (recent.some((r) => isActive(r) && sameSource(r.source, source))) continue;
    started.push(await startExport(p, source, 'schedule'));
  }
  return started;
}

/** Starts a billed export for an invoice (the admin route). */
export function requestBilledExport(p: ExportPipeline, invoiceId: string): Promise<UsageExportRecord> {
  return startExport(p, { kind: 'billed', invoiceId }, 'request');
}

async function startExport(
  p: ExportPipeline,
  source: ExportSource,
  trigger: UsageExportRecord['trigger'],
): Promise<UsageExportRecord> {
  await p.store.ensureTables();
  const now = p.now();
  const exportId = newRunId(now);
  const started = await p.client.startExport(
    source.kind === 'billed'
      ? { kind: 'billed', invoiceId: source.invoiceId, attributeSet: 'full' }
      : {
          kind: 'unbilled',
          billingPeriod: source.billingPeriod,
          currencyCode: source.currencyCode,
          attributeSet: 'full',
        },
    { correlationId: exportId },
  );
  const record: UsageExportRecord = {
    exportId,
    source,
    trigger,
    state: 'running',
    requestedAt: now.toISOString(),
    updatedAt: now.toISOString(),
    operationId: started.operationId,
    nextPollAt: new Date(now.getTime() + (started.retryAfterMs ?? DEFAULT_POLL_MS)).toISOString(),
    blobsDone: 0,
    failedBlobs: [],
    linesRead: 0,
    linesRejected: 0,
    customersMerged: 0,
  };
  await p.store.createExport(record);
  p.logger.info('usage export started', { exportId, source, operationId: started.operationId });
  return record;
}

/**
 * One pass over the recent exports: asks Graph once about each running operation that is due;
 * queues the blobs of one that succeeded; starts again a source whose export expired; and nudges
 * an export whose blobs are all done but whose merge message was lost.
 */
export async function pollExports(p: ExportPipeline): Promise<void> {
  await p.store.ensureTables();
  const recent = await p.store.listExports(RECENT_EXPORTS);
  for (const record of recent) {
    try {
      if (record.state === 'running') await pollOne(p, record);
      else if (record.state === 'processing') await completeIfDone(p, record.exportId, STALLED_AFTER_MS);
      else if (record.state === 'merging' && Date.parse(record.updatedAt) < p.now().getTime() - 10 * 60_000)
        await p.queue.send({ kind: 'merge', exportId: record.exportId });
    } catch (error) {
      p.logger.warn('usage export poll failed', { exportId: record.exportId, error: errorText(error) });
    }
  }
  // One finished export's leftovers per poll: staged rows and the blob URLs (with their SAS).
  const leftover = recent.find(
    (r) => FINISHED_STATES.includes(r.state) && r.cleanedAt === undefined && r.blobCount !== undefined,
  );
  if (leftover) {
    const deleted = await p.store.deleteExportWork(leftover.exportId, leftover.blobCount ?? 0);
    const current = await p.store.getExport(leftover.exportId);
    if (current)
      await p.store.saveExport({ ...current.record, cleanedAt: p.now().toISOString() }, current.etag);
    p.logger.info('usage export cleaned up', { exportId: leftover.exportId, rowsDeleted: deleted });
  }
  for (const record of recent.filter((r) => r.state === 'expired')) {
    const newer = recent.filter(
      (r) => sameSource(r.source, record.source) && r.requestedAt > record.requestedAt,
    );
    if (newer.length === 0) await startExport(p, record.source, record.trigger);
  }
}

async function pollOne(p: ExportPipeline, record: UsageExportRecord): Promise<void> {
  const now = p.now();
  if (record.nextPollAt !== undefined && Date.parse(record.nextPollAt) > now.getTime()) return;
  const update = async (patch: Partial<UsageExportRecord>) =>
    p.store.saveExport({ ...record, ...patch, updatedAt: p.now().toISOString() });
  if (now.getTime() - Date.parse(record.requestedAt) > OPERATION_TIMEOUT_MS) {
    await update({
      state: 'failed',
      reason: 'the export operation did not finish within 24 hours',
      finishedAt: now.toISOString(),
    });
    return;
  }
  const operation = await p.client.getOperation(record.operationId as string, {
    correlationId: record.exportId,
  });
  if (operation.status !== 'succeeded' && operation.status !== 'failed') {
    await update({
      nextPollAt: new Date(now.getTime() + (operation.retryAfterMs ?? DEFAULT_POLL_MS)).toISOString(),
    });
    return;
  }
  if (operation.status === 'failed') {
    await update({
      state: operation.noData ? 'noData' : 'failed',
      reason: `Graph: ${operation.error.code}${operation.error.message ? ` ${operation.error.message}` : ''}`,
      finishedAt: now.toISOString(),
    });
    return;
  }
  const manifest = await p.client.readManifest(operation, { correlationId: record.exportId });
  await p.store.saveBlobUrls(record.exportId, manifest.blobs);
  if (manifest.blobs.length === 0) {
    await update({ state: 'merging', blobCount: 0 });
    await p.queue.send({ kind: 'merge', exportId: record.exportId });
    return;
  }
  // Messages first, state after: a crash in between sends them again on the next poll, and a
  // blob already done ignores its second message.
  for (const blob of manifest.blobs)
    await p.queue.send({ kind: 'blob', exportId: record.exportId, index: blob.index });
  await update({ state: 'processing', blobCount: manifest.blobs.length, nextPollAt: undefined });
  p.logger.info('usage export blobs queued', { exportId: record.exportId, blobs: manifest.blobs.length });
}

/** Thrown by a blob's handler so the host retries it (and, at the last attempt, poisons it). */
export class BlobFailedError extends Error {
  readonly code = 'BlobFailed';
}

/**
 * One blob: streamed, aggregated in memory (bounded by its distinct aggregate keys), stored as
 * the blob's staged aggregates, marked done. A redelivered message finds it done and stops; a
 * retry after a crash rewrites the same staged rows, so no line counts twice. An expired SAS
 * (or 410) expires the whole export, which the next poll starts again. Any other failure throws,
 * so the host retries the message; on its last attempt the blob is first recorded as failed, so
 * the export finishes `partial`, naming it, while the message goes to the -poison queue.
 */
export async function processBlob(
  p: ExportPipeline,
  message: BlobMessage,
  dequeueCount: number,
): Promise<'done' | 'skipped' | 'expired'> {
  const found = await p.store.getExport(message.exportId);
  if (!found || found.record.state !== 'processing') return 'skipped';
  if (await p.store.blobFinished(message.exportId, message.index)) {
    await completeIfDone(p, message.exportId);
    return 'skipped';
  }
  const blob = await p.store.getBlobUrl(message.exportId, message.index);
  if (!blob) return 'skipped';
  try {
    const opened = await p.client.openBlob(blob, { correlationId: message.exportId });
    const totals = await readBlob(opened.body as Readable);
    const groups = totals.aggregate.groupCount;
    await p.store.saveBlobResult(message.exportId, message.index, blob.name, {
      linesRead: totals.linesRead,
      linesRejected: totals.linesRejected,
      rejections: totals.rejections,
      customers: totals.aggregate.drain(),
    });
    p.logger.info('usage export blob done', {
      exportId: message.exportId,
      blob: blob.name,
      linesRead: totals.linesRead,
      linesRejected: totals.linesRejected,
      groups,
    });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ExportExpired') {
      const now = p.now().toISOString();
      const current = await p.store.getExport(message.exportId);
      if (current && current.record.state === 'processing')
        await p.store.saveExport(
          {
            ...current.record,
            state: 'expired',
            reason: `blob ${blob.name}: the SAS expired; a new export is started`,
            updatedAt: now,
            finishedAt: now,
          },
          current.etag,
        );
      p.logger.warn('usage export expired', { exportId: message.exportId, blob: blob.name });
      return 'expired';
    }
    const reason = errorText(error);
    if (dequeueCount >= p.maxDequeueCount) {
      await p.store.markBlobFailed(message.exportId, message.index, blob.name, reason);
      p.logger.error('usage export blob failed for good', {
        exportId: message.exportId,
        blob: blob.name,
        reason,
      });
      await completeIfDone(p, message.exportId);
    }
    throw new BlobFailedError(`blob ${blob.name} (attempt ${dequeueCount}): ${reason}`);
  }
  await completeIfDone(p, message.exportId);
  return 'done';
}

/**
 * A message the host moved to `<queue>-poison` (the poison-queue trigger). A blob's message gets
 * there after maxDequeueCount attempts: most often the handler already recorded the blob failed on
 * its last attempt, but a worker that died (killed, timed out) on that attempt never ran it, and
 * the host poisons the message without a handler run. So the blob is recorded failed here unless
 * something is recorded for it already (a done or failed blob stays as it is; a duplicate poison
 * message changes nothing), and the export moves on to its merge if that was its last blob.
 *
 * A merge message is left to the poll, which re-sends the merge of an export in `merging` after
 * ten minutes without progress: a merge that failed maxDequeueCount times most likely fails the
 * same way again, and sending it back from here at once would cycle it queue → poison → queue
 * with no pause; the poll's re-send is paced, and a slice merged twice changes nothing.
 */
export async function recordPoisonedMessage(
  p: ExportPipeline,
  message: ExportMessage,
): Promise<'recorded' | 'unchanged' | 'skipped' | 'left to the poll'> {
  if (message.kind === 'merge') {
    p.logger.warn('usage export merge message poisoned; the poll re-sends the merge', {
      exportId: message.exportId,
    });
    return 'left to the poll';
  }
  const found = await p.store.getExport(message.exportId);
  if (!found || found.record.state !== 'processing') return 'skipped';
  const blob = await p.store.getBlobUrl(message.exportId, message.index);
  const name = blob?.name ?? `#${message.index}`;
  const recorded = await p.store.markBlobFailedIfUnrecorded(
    message.exportId,
    message.index,
    name,
    `its message was poisoned after ${p.maxDequeueCount} attempts (the worker died or timed out)`,
  );
  if (recorded) p.logger.error('usage export blob poisoned', { exportId: message.exportId, blob: name });
  // Also when nothing was recorded here: a previous delivery may have died before this step.
  await completeIfDone(p, message.exportId);
  return recorded ? 'recorded' : 'unchanged';
}

/** How often a refused update of the export record is read and tried again before the poll is left to it. */
const RECORD_ATTEMPTS = 10;

/**
 * When every blob is done or failed: the export moves to `merging` (once) and its merge is queued.
 * With `stalledAfterMs` (the poll timer), blobs still unrecorded after that long without progress
 * are recorded failed first, so an export never waits forever on a message that is gone.
 *
 * Workers finishing blobs at the same moment update the one export record on its ETag. One that
 * read the record before another's update is refused; it reads the record and the blobs again and
 * retries, so whichever worker sees the last blob recorded moves the export on. (Dropping the
 * refused update instead left an export whose every blob was done in `processing` until the poll
 * found it.)
 */
async function completeIfDone(p: ExportPipeline, exportId: string, stalledAfterMs?: number): Promise<void> {
  for (let attempt = 1; attempt <= RECORD_ATTEMPTS; attempt++) {
    if (await tryCompleteIfDone(p, exportId, stalledAfterMs)) return;
  }
  p.logger.warn('usage export record kept changing under its workers; the poll moves it on', { exportId });
}

/** One read-decide-update of the export record; false when its conditional update was refused. */
async function tryCompleteIfDone(
  p: ExportPipeline,
  exportId: string,
  stalledAfterMs?: number,
): Promise<boolean> {
  let found = await p.store.getExport(exportId);
  if (!found || found.record.state !== 'processing') return true;
  let progress = await p.store.blobProgress(exportId);
  const blobCount = found.record.blobCount ?? 0;
  const stalled =
    stalledAfterMs !== undefined && p.now().getTime() - Date.parse(found.record.updatedAt) > stalledAfterMs;
  if (progress.done + progress.failed.length < blobCount && stalled) {
    const recorded = new Set(progress.failed.map((b) => b.index));
    for (const index of await p.store.doneBlobIndexes(exportId)) recorded.add(index);
    for (let index = 0; index < blobCount; index++) {
      if (recorded.has(index)) continue;
      const blob = await p.store.getBlobUrl(exportId, index);
      await p.store.markBlobFailed(
        exportId,
        index,
        blob?.name ?? `#${index}`,
        `no worker finished it within ${stalledAfterMs / 60_000} minutes (its message was poisoned by a dead worker, or lost)`,
      );
    }
    p.logger.warn('usage export stalled: unfinished blobs recorded failed', { exportId });
    found = (await p.store.getExport(exportId)) ?? found;
    progress = await p.store.blobProgress(exportId);
  }
  const { record, etag } = found;
  if (progress.done + progress.failed.length < blobCount) {
    if (progress.done === record.blobsDone && progress.linesRead === record.linesRead) return true;
    return p.store.saveExport(
      {
        ...record,
        blobsDone: progress.done,
        linesRead: progress.linesRead,
        linesRejected: progress.linesRejected,
        failedBlobs: progress.failed,
        updatedAt: p.now().toISOString(),
      },
      etag,
    );
  }
  const moved = await p.store.saveExport(
    {
      ...record,
      state: 'merging',
      blobsDone: progress.done,
      failedBlobs: progress.failed,
      linesRead: progress.linesRead,
      linesRejected: progress.linesRejected,
      updatedAt: p.now().toISOString(),
    },
    etag,
  );
  if (moved) await p.queue.send({ kind: 'merge', exportId });
  return moved;
}

/**
 * One slice of the merge: customers in key order from `after`, each flipped to the export month by
 * month, until the slice's time is up; then the next slice is queued. The last slice finishes the
 * export: `succeeded`, or `partial` naming the blobs that failed. Merging a customer twice (a
 * redelivered message) changes nothing.
 */
export async function mergeSlice(
  p: ExportPipeline,
  message: MergeMessage,
): Promise<'continued' | 'finished' | 'skipped'> {
  const found = await p.store.getExport(message.exportId);
  if (!found || found.record.state !== 'merging') return 'skipped';
  const started = p.now().getTime();
  let after = message.after;
  let merged = 0;
  // Partner-wide rows of the slice's customers, written together in full transactions (never
  // splitting a customer) after their months are committed (a redelivered slice writes them
  // again: same keys, same values).
  let partnerRows: TransactionAction[][] = [];
  const flushPartnerRows = async () => {
    await p.store.writePartnerRows(partnerRows);
    partnerRows = [];
  };
  for (;;) {
    const customers = await p.store.customersAfter(message.exportId, after, 100);
    for (const customer of customers) {
      const outcome = await p.store.mergeCustomer(
        found.record,
        customer.customerKey,
        customer.blobs,
        p.now(),
      );
      if (outcome.partnerRows.length > 0) partnerRows.push(outcome.partnerRows);
      after = customer.customerKey;
      merged++;
      if (p.now().getTime() - started >= p.mergeSliceMs) break;
    }
    await flushPartnerRows();
    if (customers.length === 0) break;
    if (p.now().getTime() - started >= p.mergeSliceMs) {
      const current = await p.store.getExport(message.exportId);
      if (current)
        await p.store.saveExport({
          ...current.record,
          customersMerged: current.record.customersMerged + merged,
          updatedAt: p.now().toISOString(),
        });
      await p.queue.send({ kind: 'merge', exportId: message.exportId, after });
      return 'continued';
    }
  }
  const current = await p.store.getExport(message.exportId);
  if (!current || current.record.state !== 'merging') return 'skipped';
  const failed = current.record.failedBlobs;
  const now = p.now().toISOString();
  await p.store.saveExport({
    ...current.record,
    state: failed.length > 0 ? 'partial' : 'succeeded',
    reason: failed.length > 0 ? `blobs failed: ${failed.map((b) => b.name).join(', ')}` : undefined,
    customersMerged: current.record.customersMerged + merged,
    updatedAt: now,
    finishedAt: now,
  });
  p.logger.info('usage export finished', { exportId: message.exportId, failedBlobs: failed.length });
  return 'finished';
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0].slice(0, 500);
}
