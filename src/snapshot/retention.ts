import type { Logger } from '../observability/logger';
import type { RunStore } from '../domain/runs';
import type { RetentionStore } from '../domain/snapshotWriter';
import type { UsageReader } from '../domain/usageReader';

export interface RetentionDependencies {
  store: { runs: RunStore; retention: RetentionStore } & Pick<UsageReader, 'getPartnerSummary'>;
  logger: Logger;
  settings: { days: number };
  now?: () => Date;
}

export interface RetentionResult {
  runsDeleted: number;
  historyRowsDeleted: number;
  listRowsDeleted: number;
}

/**
 * Deletes history older than `settings.days`: every run requested before the cutoff loses its
 * history points, its customers list and finally its record (so an interrupted retention simply
 * picks the run up again next time). The run behind the latest partner view and the active run
 * are kept whatever their age: the latest view is never touched.
 */
export async function runRetention(deps: RetentionDependencies): Promise<RetentionResult> {
  const now = deps.now ?? (() => new Date());
  const cutoff = new Date(now().getTime() - deps.settings.days * 24 * 3600_000);
  const latest = (await deps.store.getPartnerSummary())?.snapshot.runId;
  const active = (await deps.store.runs.activeRun())?.run.runId;
  const result: RetentionResult = { runsDeleted: 0, historyRowsDeleted: 0, listRowsDeleted: 0 };
  for await (const run of deps.store.runs.runsRequestedBefore(cutoff)) {
    if (run.runId === latest || run.runId === active) continue;
    const deleted = await deps.store.retention.deleteRunData(run.runId);
    await deps.store.runs.deleteRun(run.runId);
    result.runsDeleted++;
    result.historyRowsDeleted += deleted.historyRows;
    result.listRowsDeleted += deleted.listRows;
  }
  deps.logger.event('RetentionCompleted', {
    cutoff: cutoff.toISOString(),
    days: deps.settings.days,
    ...result,
  });
  return result;
}
