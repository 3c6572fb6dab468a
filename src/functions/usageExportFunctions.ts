import type { InvocationContext, Timer } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import type { ExportMessage } from '../domain/dailyUsage';
import { contextLogger } from '../observability/logger';
import { exportPipeline } from '../usageExport/exportDependencies';
import {
  mergeSlice,
  pollExports,
  processBlob,
  recordPoisonedMessage,
  startScheduledExports,
  type ExportPipeline,
} from '../usageExport/pipeline';

/** USAGE_EXPORT_SCHEDULE: starts the current (and, until billed, the previous) period's export. */
export async function usageExportTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const started = await startScheduledExports(exportPipeline(dependencies(), contextLogger(context)));
  context.info(`usage export timer: ${started.length} export(s) started`);
}

/** USAGE_EXPORT_POLL_SCHEDULE: one look at each running export; never waits for Graph. */
export async function usageExportPollHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  await pollExports(exportPipeline(dependencies(), contextLogger(context)));
}

/**
 * USAGE_EXPORT_QUEUE: a blob or a merge slice. Delivery is at least once; both are idempotent.
 * A blob that fails throws, so the host retries it and, after maxDequeueCount, moves it to the
 * -poison queue (the blob is recorded failed on that last attempt).
 */
export async function usageExportWorkHandler(message: unknown, context: InvocationContext): Promise<void> {
  await onExportMessage(message, context, 'usage export', (pipeline, work) => {
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    return work.kind === 'blob' ? processBlob(pipeline, work, dequeueCount) : mergeSlice(pipeline, work);
  });
}

/**
 * USAGE_EXPORT_QUEUE-poison: a message the host gave up on. A blob is recorded failed at once
 * (unless already recorded), so a worker that died on its last attempt makes the export `partial`
 * now rather than after the poll's stalled sweep; a merge is left to the poll's re-send. A message
 * that is neither is dropped, never thrown back: only a storage failure throws (the host retries it
 * and, in the end, moves it to `-poison-poison`, where the stalled sweep remains the backstop).
 */
export async function usageExportPoisonHandler(message: unknown, context: InvocationContext): Promise<void> {
  await onExportMessage(message, context, 'usage export poisoned', recordPoisonedMessage);
}

/** Parses the message (one no version of the app wrote is dropped: nothing to retry), runs, logs. */
async function onExportMessage(
  message: unknown,
  context: InvocationContext,
  label: string,
  run: (pipeline: ExportPipeline, work: ExportMessage) => Promise<string>,
): Promise<void> {
  const work = parseMessage(message);
  if (!work) {
    context.warn(`${label}: a message that is neither a blob nor a merge was dropped`);
    return;
  }
  const pipeline = exportPipeline(dependencies(), contextLogger(context));
  await pipeline.store.ensureTables();
  const outcome = await run(pipeline, work);
  context.info(
    `${label} ${work.kind} ${work.exportId}${work.kind === 'blob' ? `#${work.index}` : ''}: ${outcome}`,
  );
}

function parseMessage(message: unknown): ExportMessage | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (typeof m.exportId !== 'string' || !/^\d{8}T\d{9}Z-[0-9a-f]{8}$/.test(m.exportId)) return undefined;
  if (m.kind === 'blob' && Number.isInteger(m.index) && (m.index as number) >= 0)
    return { kind: 'blob', exportId: m.exportId, index: m.index as number };
  if (m.kind === 'merge')
    return { kind: 'merge', exportId: m.exportId, after: typeof m.after === 'string' ? m.after : undefined };
  return undefined;
}
