import type { InvocationContext, Timer } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import type { ExportMessage } from '../domain/dailyUsage';
import { contextLogger } from '../observability/logger';
import { exportPipeline } from '../usageExport/exportDependencies';
import { mergeSlice, pollExports, processBlob, startScheduledExports } from '../usageExport/pipeline';

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
  const work = parseMessage(message);
  if (!work) {
    // Nothing to retry: a message no version of the app wrote.
    context.warn('usage export: a message that is neither a blob nor a merge was dropped');
    return;
  }
  const pipeline = exportPipeline(dependencies(), contextLogger(context));
  await pipeline.store.ensureTables();
  const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
  const outcome =
    work.kind === 'blob' ? await processBlob(pipeline, work, dequeueCount) : await mergeSlice(pipeline, work);
  context.info(
    `usage export ${work.kind} ${work.exportId}${work.kind === 'blob' ? `#${work.index}` : ''}: ${outcome}`,
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
