import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import {
  RunAlreadyActiveError,
  toRunRecord,
  type RunPatch,
  type RunRecord,
  type RunStore,
  type StoredRun,
} from '../domain/runs';
import type { RunTotals, SnapshotWriter } from '../domain/snapshotWriter';
import type { PartnerUsageSummary } from '../domain/usage';
import type { Logger, OperationalEvent } from '../observability/logger';
import type { CallOptions } from '../partnerCenter/partnerCenterClient';
import type { SnapshotPartnerCenter } from './customerSnapshot';
import { isStorageUnavailable } from '../storage/errors';
import { CheckpointBuffer } from './checkpointBuffer';
import { walkCustomers } from './customerWalk';
import { reasonOf } from './failures';
import { LeaseKeeper } from './leaseKeeper';

/** What a snapshot invocation needs; triggers and the CLI build it, tests pass their own parts. */
export interface SnapshotDependencies {
  partnerCenter: SnapshotPartnerCenter;
  store: { runs: RunStore; writer: SnapshotWriter };
  logger: Logger;
  settings: {
    timeBudgetMs: number;
    customerConcurrency: number;
    /**
     * `incremental` (the default): a customer whose monthly record has not moved since its last
     * snapshot, younger than `fullRefreshMs` and of the current billing period, is carried over
     * without a Partner Center request. `full`: every customer is read.
     */
    mode?: 'incremental' | 'full';
    /** Incremental runs read a customer again once its detail is this old. Default 24 h. */
    fullRefreshMs?: number;
  };
  /** Wall clock for takenAt and run times. */
  now?: () => Date;
  /** Stops the invocation early (host shutdown); the run continues in a later invocation. */
  signal?: AbortSignal;
  /** Lease holder id; one per process by default. */
  holder?: string;
  /** Lease lifetime; renewed every third of it. A dead holder's lease lapses after this. */
  leaseTtlMs?: number;
  /** Finished customers are checkpointed at least this often (and every 100). */
  checkpointIntervalMs?: number;
  /** After the budget, in-flight customers get this long before they are cancelled (and redone later). */
  graceMs?: number;
  /** A run still unfinished this long after it was requested is failed rather than continued. */
  maxRunAgeMs?: number;
}

export type InvocationOutcome =
  /** A new run was refused because another is queued or running. */
  | { kind: 'refused'; activeRunId: string }
  /** Nothing to continue. */
  | { kind: 'idle' }
  /** Another invocation holds the run's lease. */
  | { kind: 'busy'; runId: string }
  /** The time budget ran out (or the invocation was stopped); the run continues later. */
  | { kind: 'yielded'; run: RunRecord }
  /** The lease was taken over while this invocation worked: it stopped writing. */
  | { kind: 'leaseLost'; runId: string }
  | { kind: 'finished'; run: RunRecord };

const DEFAULT_LEASE_TTL_MS = 60_000;
const DEFAULT_FULL_REFRESH_MS = 24 * 3600_000;
const CHECKPOINT_BATCH = 100;
const RUN_EVENTS: Record<'succeeded' | 'partial' | 'failed', OperationalEvent> = {
  succeeded: 'SnapshotRunSucceeded',
  partial: 'SnapshotRunPartial',
  failed: 'SnapshotRunFailed',
};
const processHolder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** The schedule's entry: starts a new run now, unless one is queued or running. */
export async function startScheduledRun(
  deps: SnapshotDependencies,
  trigger: RunRecord['trigger'] = 'timer',
): Promise<InvocationOutcome> {
  let run: StoredRun;
  try {
    run = await deps.store.runs.createRun(trigger);
  } catch (error) {
    if (error instanceof RunAlreadyActiveError) {
      deps.logger.info('Snapshot run not started: another run is queued or running', {
        activeRunId: error.runId,
      });
      return { kind: 'refused', activeRunId: error.runId };
    }
    throw error;
  }
  return continueRun(deps, run.runId);
}

/** The resume timer's entry: continues a queued run, or a running one whose holder's lease lapsed. */
export async function resumeActiveRun(deps: SnapshotDependencies): Promise<InvocationOutcome> {
  const active = await deps.store.runs.activeRun();
  if (!active) return { kind: 'idle' };
  if (active.holder) return { kind: 'busy', runId: active.run.runId };
  return continueRun(deps, active.run.runId);
}

/**
 * Runs one snapshot to its end, invocation after invocation (the CLI). Starts a new run, or
 * continues the active one when its lease is free; refused when another process is working.
 */
export async function runSnapshotToCompletion(
  deps: SnapshotDependencies,
  trigger: RunRecord['trigger'] = 'cli',
): Promise<InvocationOutcome> {
  let outcome = await startScheduledRun(deps, trigger);
  if (outcome.kind === 'refused') outcome = await resumeActiveRun(deps);
  while (outcome.kind === 'yielded' && !deps.signal?.aborted)
    outcome = await continueRun(deps, outcome.run.runId);
  return outcome;
}

/**
 * One invocation's work on run `runId`: take the lease, skip the customers already checkpointed,
 * snapshot the rest while streaming the customers list (bounded concurrency), checkpoint as
 * customers finish, and either finish the run or, when the time budget is spent, release the
 * lease and leave the run for the resume timer.
 */
export async function continueRun(deps: SnapshotDependencies, runId: string): Promise<InvocationOutcome> {
  const { runs, writer } = deps.store;
  const now = deps.now ?? (() => new Date());
  const ttlMs = deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const budget = deps.settings.timeBudgetMs;
  const maxAge = deps.maxRunAgeMs ?? 24 * 3600_000;
  const started = Date.now();

  const acquired = await runs.acquireLease(runId, deps.holder ?? processHolder, ttlMs);
  if (!acquired) return { kind: 'busy', runId };
  const run = await runs.getRun(runId);
  if (!run) throw new Error(`Run ${runId} has a lease but no record`);
  const log = { runId, correlationId: run.correlationId };

  // Aborted by a lost lease, a run-fatal or storage error, the hard stop after the budget, or the host.
  const stop = new AbortController();
  // Every in-flight Partner Center request listens on it: up to concurrency × the client's own.
  setMaxListeners(0, stop.signal);
  const onOuterAbort = () => stop.abort();
  deps.signal?.addEventListener('abort', onOuterAbort);
  const lease = new LeaseKeeper(runs, acquired, {
    ttlMs,
    logger: deps.logger,
    log,
    onLost: () => stop.abort(),
  });
  lease.startHeartbeat();

  const finish = async (
    patch: RunPatch & { state: 'succeeded' | 'partial' | 'failed' },
  ): Promise<InvocationOutcome> => {
    if (!(await lease.finish({ invocations: run.invocations, ...patch })))
      return { kind: 'leaseLost', runId };
    const final = toRunRecord({ ...run, ...patch, counts: { ...run.counts, ...patch.counts } });
    final.finishedAt = now().toISOString();
    deps.logger.event(RUN_EVENTS[patch.state], {
      ...log,
      state: patch.state,
      counts: final.counts,
      reason: patch.reason,
      durationMs: Date.now() - started,
    });
    return { kind: 'finished', run: final };
  };
  const yieldRun = async (totals?: RunTotals): Promise<InvocationOutcome> => {
    const counts = totals ? { ...totals } : undefined;
    if (!(await lease.release({ invocations: run.invocations, counts }))) return { kind: 'leaseLost', runId };
    deps.logger.info('Snapshot run yielded; the resume timer continues it', { ...log, counts: totals });
    return { kind: 'yielded', run: toRunRecord({ ...run, counts: { ...run.counts, ...totals } }) };
  };

  try {
    if (Date.parse(run.requestedAt) + maxAge < now().getTime()) {
      return await finish({
        state: 'failed',
        reason: `Expired: not finished within ${Math.round(maxAge / 3600_000)} h`,
      });
    }
    // Counted when an invocation starts, so one that dies still shows in the run record.
    run.invocations += 1;
    const starting = run.state === 'queued';
    if (starting) {
      run.state = 'running';
      run.startedAt = now().toISOString();
    }
    await lease.renew({ state: 'running', startedAt: run.startedAt, invocations: run.invocations });
    if (starting) deps.logger.event('SnapshotRunStarted', { ...log, trigger: run.trigger });
    const call = { correlationId: run.correlationId, signal: stop.signal };

    const partner = await partnerSummary(deps, run, call, lease, now);
    if (partner instanceof Error) {
      if (stop.signal.aborted) return await yieldRun();
      return await finish({
        state: 'failed',
        reason: reasonOf('Partner usage summary failed', partner.cause),
      });
    }

    const progress = await writer.runProgress(runId);
    const checkpoints = new CheckpointBuffer(writer, lease, runId, progress.totals, {
      batch: CHECKPOINT_BATCH,
      intervalMs: deps.checkpointIntervalMs ?? 2_000,
    });
    const walk = await walkCustomers({
      partnerCenter: deps.partnerCenter,
      writer,
      logger: deps.logger,
      log,
      runId,
      periodStart: partner.summary.billingStartDate,
      carryOver:
        deps.settings.mode === 'full'
          ? undefined
          : {
              refreshMs: deps.settings.fullRefreshMs ?? DEFAULT_FULL_REFRESH_MS,
              billingStartDate: partner.summary.billingStartDate,
            },
      call,
      taken: progress.finished,
      checkpoints,
      concurrency: deps.settings.customerConcurrency,
      deadline: started + budget,
      graceMs: deps.graceMs ?? Math.min(120_000, Math.max(1_000, budget / 2)),
      now,
      stop,
    });
    // Storage failing under the checkpoint: end this invocation; the lease lapses and the resume
    // timer continues the run from its last checkpoint.
    if (walk.storageError !== undefined) throw walk.storageError;
    await checkpoints.flush();
    const totals = checkpoints.totals;

    if (lease.lost) return { kind: 'leaseLost', runId };
    if (walk.fatal !== undefined) {
      return await finish({
        state: 'failed',
        reason: reasonOf('Run stopped', walk.fatal),
        counts: { ...totals },
      });
    }
    if (walk.listError !== undefined) {
      return await finish({
        state: 'failed',
        reason: reasonOf('Customers list failed', walk.listError),
        counts: { ...totals },
      });
    }
    if (walk.stoppedEarly || stop.signal.aborted) return await yieldRun(totals);

    if (totals.customersWritten === 0 && totals.customersFailed > 0) {
      return await finish({ state: 'failed', reason: 'Every customer failed', counts: { ...totals } });
    }
    try {
      await writer.publishPartner(runId, partner.takenAt, partner.summary);
    } catch (error) {
      // Storage down: the resume publishes. Refused (the data): every resume would be refused too.
      if (
        isStorageUnavailable(error) &&
        !(await writer.probe().then(
          () => true,
          () => false,
        ))
      )
        throw error;
      return await finish({
        state: 'failed',
        reason: reasonOf('Publishing failed', error),
        counts: { ...totals },
      });
    }
    const state = totals.customersFailed > 0 ? 'partial' : 'succeeded';
    return await finish({
      state,
      reason: state === 'partial' ? `${totals.customersFailed} customer(s) failed` : undefined,
      counts: { ...totals },
    });
  } finally {
    lease.stop();
    deps.signal?.removeEventListener('abort', onOuterAbort);
  }
}

/**
 * The partner summary is read once per run and kept on the run record, so a resumed run
 * publishes the same one. An Error (with the read's failure as its cause) when the read failed.
 */
async function partnerSummary(
  deps: SnapshotDependencies,
  run: StoredRun,
  call: CallOptions,
  lease: LeaseKeeper,
  now: () => Date,
): Promise<{ summary: PartnerUsageSummary; takenAt: Date } | Error> {
  if (run.partnerSummaryJson && run.partnerTakenAt) {
    return {
      summary: JSON.parse(run.partnerSummaryJson) as PartnerUsageSummary,
      takenAt: new Date(run.partnerTakenAt),
    };
  }
  let partner: { summary: PartnerUsageSummary; takenAt: Date };
  try {
    partner = { summary: await deps.partnerCenter.getPartnerUsageSummary(call), takenAt: now() };
  } catch (error) {
    return new Error('Partner usage summary failed', { cause: error });
  }
  const kept = {
    partnerSummaryJson: JSON.stringify(partner.summary),
    partnerTakenAt: partner.takenAt.toISOString(),
  };
  try {
    await lease.renew(kept);
  } catch (error) {
    // A summary the run record cannot hold (too large, or refused) would fail every resume the
    // same way: fail the run now. Storage down is different: a resume reads it again.
    if (!isStorageUnavailable(error)) return new Error('Partner usage summary failed', { cause: error });
    throw error;
  }
  Object.assign(run, kept);
  return partner;
}
