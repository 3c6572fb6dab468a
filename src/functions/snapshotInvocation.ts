import type { InvocationContext } from '@azure/functions';
import { dependencies } from '../app/dependencies';
import { contextLogger } from '../observability/logger';
import type { InvocationOutcome, SnapshotDependencies } from '../snapshot/runSnapshot';
import { snapshotDependencies, withTokenFlush } from '../snapshot/snapshotDependencies';

/**
 * One trigger's work on a snapshot run (timer, resume timer, request queue): tables ensured,
 * the invocation's logger, and a rotated refresh token flushed before the invocation ends.
 */
export async function snapshotInvocation(
  context: InvocationContext,
  work: (deps: SnapshotDependencies) => Promise<InvocationOutcome>,
): Promise<InvocationOutcome> {
  const root = dependencies();
  await root.usageStore.ensureTables();
  const logger = contextLogger(context);
  return withTokenFlush(root, logger, () => work(snapshotDependencies(root, logger)));
}
