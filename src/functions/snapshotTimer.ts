import { app, type InvocationContext, type Timer } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import { contextLogger } from '../observability/logger';
import { startScheduledRun } from '../snapshot/runSnapshot';
import { snapshotDependencies, withTokenFlush } from '../snapshot/snapshotDependencies';

/** Starts a new snapshot run on the schedule (refused while another run is queued or running). */
export async function snapshotTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const root = dependencies();
  await root.usageStore.ensureTables();
  const logger = contextLogger(context);
  const outcome = await withTokenFlush(root, logger, () =>
    startScheduledRun(snapshotDependencies(root, logger)),
  );
  context.info(`snapshot timer: ${outcome.kind}`);
}

app.timer('snapshotTimer', {
  schedule: '%SNAPSHOT_SCHEDULE%',
  runOnStartup: false,
  handler: snapshotTimerHandler,
});
