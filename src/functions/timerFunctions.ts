import type { InvocationContext, Timer } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import { contextLogger } from '../observability/logger';
import { runRetention } from '../snapshot/retention';
import { resumeActiveRun, startScheduledRun } from '../snapshot/runSnapshot';
import { retentionDependencies } from '../snapshot/snapshotDependencies';
import { snapshotInvocation } from './snapshotInvocation';
import { usageExportPollHandler, usageExportTimerHandler } from './usageExportFunctions';

/** One timer function: its six-field NCRONTAB schedule, a `%SETTING%` the host resolves. */
export interface TimerFunction {
  name: string;
  schedule: `%${string}%`;
  handler: (timer: Timer, context: InvocationContext) => Promise<void>;
}

/** Starts a new snapshot run on the schedule (refused while another run is queued or running). */
export async function snapshotTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const outcome = await snapshotInvocation(context, (deps) => startScheduledRun(deps));
  context.info(`snapshot timer: ${outcome.kind}`);
}

/**
 * Continues a run whose invocation died or ran out of time, or a requested run whose queue
 * message was lost: the crash-recovery path behind the request queue.
 */
export async function snapshotResumeTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const outcome = await snapshotInvocation(context, resumeActiveRun);
  if (outcome.kind !== 'idle') context.info(`snapshot resume timer: ${outcome.kind}`);
}

/** Deletes snapshot history older than RETENTION_DAYS; the latest view is never touched. */
export async function retentionTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const root = dependencies();
  await root.usageStore.ensureTables();
  await runRetention(retentionDependencies(root, contextLogger(context)));
}

/** Every timer function of the app; `runOnStartup` stays off for all of them. */
export const TIMER_FUNCTIONS: readonly TimerFunction[] = [
  { name: 'snapshotTimer', schedule: '%SNAPSHOT_SCHEDULE%', handler: snapshotTimerHandler },
  {
    name: 'snapshotResumeTimer',
    schedule: '%SNAPSHOT_RESUME_SCHEDULE%',
    handler: snapshotResumeTimerHandler,
  },
  { name: 'retentionTimer', schedule: '%RETENTION_SCHEDULE%', handler: retentionTimerHandler },
  { name: 'usageExportTimer', schedule: '%USAGE_EXPORT_SCHEDULE%', handler: usageExportTimerHandler },
  { name: 'usageExportPollTimer', schedule: '%USAGE_EXPORT_POLL_SCHEDULE%', handler: usageExportPollHandler },
];
