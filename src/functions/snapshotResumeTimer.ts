import { app, type InvocationContext, type Timer } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import { contextLogger } from '../observability/logger';
import { resumeActiveRun } from '../snapshot/runSnapshot';
import { snapshotDependencies, withTokenFlush } from '../snapshot/snapshotDependencies';

/** Continues a queued run (POST /api/v1/snapshots) or one whose invocation died or ran out of time. */
export async function snapshotResumeTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const root = dependencies();
  await root.usageStore.ensureTables();
  const logger = contextLogger(context);
  const outcome = await withTokenFlush(root, logger, () =>
    resumeActiveRun(snapshotDependencies(root, logger)),
  );
  if (outcome.kind !== 'idle') context.info(`snapshot resume timer: ${outcome.kind}`);
}

app.timer('snapshotResumeTimer', {
  schedule: '%SNAPSHOT_RESUME_SCHEDULE%',
  runOnStartup: false,
  handler: snapshotResumeTimerHandler,
});
