import { app, type InvocationContext, type Timer } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import { contextLogger } from '../observability/logger';
import { runRetention } from '../snapshot/retention';
import { retentionDependencies } from '../snapshot/snapshotDependencies';

/** Deletes snapshot history older than RETENTION_DAYS; the latest view is never touched. */
export async function retentionTimerHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const root = dependencies();
  await root.usageStore.ensureTables();
  await runRetention(retentionDependencies(root, contextLogger(context)));
}

app.timer('retentionTimer', {
  schedule: '%RETENTION_SCHEDULE%',
  runOnStartup: false,
  handler: retentionTimerHandler,
});
