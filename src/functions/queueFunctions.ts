import type { InvocationContext } from '@azure/functions';
import { resumeActiveRun } from '../snapshot/runSnapshot';
import { snapshotInvocation } from './snapshotInvocation';
import { usageExportPoisonHandler, usageExportWorkHandler } from './usageExportFunctions';

/**
 * The app setting the queue triggers name as their connection: `QUEUE_STORAGE` (a connection
 * string, locally) or `QUEUE_STORAGE__queueServiceUri` with `__credential` and `__clientId`
 * (managed identity, in Azure). The app's own sender reads the same settings.
 */
export const QUEUE_CONNECTION = 'QUEUE_STORAGE';

/**
 * One queue-triggered function: the queue (a `%SETTING%` the host resolves, possibly with a suffix
 * such as `-poison`) and its handler.
 */
export interface QueueFunction {
  name: string;
  queueName: `%${string}%${string}`;
  handler: (message: unknown, context: InvocationContext) => Promise<void>;
}

/**
 * Starts (or continues) the requested run at once. Delivery is at least once and the resume timer
 * may race it: `resumeActiveRun` takes the run's lease, so a second delivery finds the run busy
 * or finished and does nothing. Throwing lets the host retry and, in the end, poison the message;
 * the run record stays for the resume timer either way.
 */
export async function snapshotRequestHandler(message: unknown, context: InvocationContext): Promise<void> {
  const requested = (message as { runId?: unknown } | null)?.runId;
  const outcome = await snapshotInvocation(context, resumeActiveRun);
  context.info(
    `snapshot request ${typeof requested === 'string' ? requested : '(no run id)'}: ${outcome.kind}`,
  );
}

/** Every queue-triggered function of the app. */
export const QUEUE_FUNCTIONS: readonly QueueFunction[] = [
  { name: 'snapshotRequest', queueName: '%SNAPSHOT_REQUEST_QUEUE%', handler: snapshotRequestHandler },
  { name: 'usageExportWork', queueName: '%USAGE_EXPORT_QUEUE%', handler: usageExportWorkHandler },
  {
    name: 'usageExportPoison',
    queueName: '%USAGE_EXPORT_QUEUE%-poison',
    handler: usageExportPoisonHandler,
  },
];
