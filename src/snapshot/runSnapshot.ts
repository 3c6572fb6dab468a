import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { errorCode } from '../domain/errors';
import type { CustomerMonthlyUsageRecord, PartnerUsageSummary } from '../domain/usage';
import type { Logger } from '../observability/logger';
import type { PartnerCenterClient } from '../partnerCenter/partnerCenterClient';
import { isStorageUnavailable, LeaseLostError, RunAlreadyActiveError } from '../storage/errors';
import { keyPart } from '../storage/keys';
import type { Lease, RunPatch, StoredRun } from '../storage/runStore';
import { toRunRecord } from '../storage/runStore';
import { addEntry, type CustomerListEntry, type RunTotals } from '../storage/snapshotWriter';
import type { UsageStore } from '../storage/tableUsageStore';
import type { RunRecord } from '../storage/usageStore';
import { snapshotCustomer, type CustomerProgress } from './customerSnapshot';

/** What a snapshot invocation needs; triggers and the CLI build it, tests pass their own parts. */
export interface SnapshotDependencies {
  partnerCenter: PartnerCenterClient;
  store: Pick<UsageStore, 'runs' | 'writer'>;
  logger: Logger;
  settings: { timeBudgetMs: number; customerConcurrency: number };
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

/** Errors that end the whole run at once: no customer can succeed while they hold. */
const RUN_FATAL = new Set(['ReconsentRequired', 'TokenRequestFailed']);
const DEFAULT_LEASE_TTL_MS = 60_000;
const CHECKPOINT_BATCH = 100;
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
  const ttl = deps.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const budget = deps.settings.timeBudgetMs;
  const grace = deps.graceMs ?? Math.min(120_000, Math.max(1_000, budget / 2));
  const checkpointEvery = deps.checkpointIntervalMs ?? 2_000;
  const maxAge = deps.maxRunAgeMs ?? 24 * 3600_000;
  const started = Date.now();

  const acquired = await runs.acquireLease(runId, deps.holder ?? processHolder, ttl);
  if (!acquired) return { kind: 'busy', runId };
  let lease: Lease = acquired;
  const loaded = await runs.getRun(runId);
  if (!loaded) throw new Error(`Run ${runId} has a lease but no record`);
  const run: StoredRun = loaded;
  const log = { runId, correlationId: run.correlationId };

  // Every lease change is serialized through this chain: heartbeats, checkpoints, the end.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };
  let leaseLost = false;
  const controller = new AbortController();
  // Every in-flight Partner Center request listens on it: up to concurrency × the client's own.
  setMaxListeners(0, controller.signal);
  const onOuterAbort = () => controller.abort();
  deps.signal?.addEventListener('abort', onOuterAbort);
  const renew = (patch: RunPatch = {}) =>
    serial(async () => {
      if (leaseLost) return;
      try {
        lease = await runs.renewLease(lease, ttl, patch);
      } catch (error) {
        if (error instanceof LeaseLostError) {
          leaseLost = true;
          controller.abort();
          deps.logger.warn('Snapshot lease lost; this invocation stops writing', log);
          return;
        }
        throw error;
      }
    });
  const heartbeat = setInterval(() => void renew().catch(() => undefined), Math.max(50, ttl / 3));
  heartbeat.unref?.();

  const finish = async (
    patch: RunPatch & { state: 'succeeded' | 'partial' | 'failed' },
  ): Promise<InvocationOutcome> => {
    await serial(async () => {
      if (!leaseLost) await runs.finishRun(lease, { invocations: run.invocations, ...patch });
    });
    if (leaseLost) return { kind: 'leaseLost', runId };
    const final = toRunRecord({ ...run, ...patch, counts: { ...run.counts, ...patch.counts } });
    final.finishedAt = now().toISOString();
    const props = {
      ...log,
      state: patch.state,
      counts: final.counts,
      reason: patch.reason,
      durationMs: Date.now() - started,
    };
    if (patch.state === 'succeeded') deps.logger.event('SnapshotRunSucceeded', props);
    else if (patch.state === 'partial') deps.logger.event('SnapshotRunPartial', props);
    else deps.logger.event('SnapshotRunFailed', props);
    return { kind: 'finished', run: final };
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
    const resumed = run.invocations > 1;
    const starting = run.state === 'queued';
    if (starting) {
      run.state = 'running';
      run.startedAt = now().toISOString();
    }
    await renew({ state: 'running', startedAt: run.startedAt, invocations: run.invocations });
    if (starting) deps.logger.event('SnapshotRunStarted', { ...log, trigger: run.trigger });
    const call = { correlationId: run.correlationId, signal: controller.signal };

    // The partner summary is read once per run and kept on the run, so a resumed run publishes it.
    let partner: { summary: PartnerUsageSummary; takenAt: Date };
    if (run.partnerSummaryJson && run.partnerTakenAt) {
      partner = {
        summary: JSON.parse(run.partnerSummaryJson) as PartnerUsageSummary,
        takenAt: new Date(run.partnerTakenAt),
      };
    } else {
      try {
        partner = { summary: await deps.partnerCenter.getPartnerUsageSummary(call), takenAt: now() };
      } catch (error) {
        if (controller.signal.aborted) return await stopEarly();
        return await finish({ state: 'failed', reason: reasonOf('Partner usage summary failed', error) });
      }
      run.partnerSummaryJson = JSON.stringify(partner.summary);
      run.partnerTakenAt = partner.takenAt.toISOString();
      await renew({ partnerSummaryJson: run.partnerSummaryJson, partnerTakenAt: run.partnerTakenAt });
    }

    const progress = await writer.runProgress(runId);
    const totals: RunTotals = progress.totals;
    const finished = progress.finished;
    let buffer: CustomerListEntry[] = [];
    let lastCheckpoint = Date.now();
    const checkpoint = () =>
      serial(async () => {
        if (leaseLost || buffer.length === 0) return;
        const entries = buffer;
        buffer = [];
        lastCheckpoint = Date.now();
        await writer.recordCustomers(runId, entries);
        for (const e of entries) addEntry(totals, { ...e });
        lease = await runs.renewLease(lease, ttl, { counts: { ...totals } });
      }).catch((error: unknown) => {
        if (error instanceof LeaseLostError) {
          leaseLost = true;
          controller.abort();
          return;
        }
        throw error;
      });

    let fatal: unknown;
    let listError: unknown;
    let storageError: unknown;
    let stoppedEarly = false;
    const inFlight = new Set<Promise<void>>();
    const deadline = started + budget;
    const hardStop = setTimeout(
      () => controller.abort(),
      Math.max(0, budget + grace - (Date.now() - started)),
    );
    hardStop.unref?.();

    const processCustomer = async (record: CustomerMonthlyUsageRecord) => {
      const customerProgress: CustomerProgress = {
        subscriptionsSeen: 0,
        subscriptionsWritten: 0,
        resourcesWritten: 0,
      };
      let takenAt = now();
      try {
        // A resumed run may meet a customer an earlier invocation committed but never checkpointed:
        // redo it at that commit's time, so its history points are replaced, not added twice.
        if (resumed) takenAt = (await writer.committedAt(record.customerId, runId)) ?? takenAt;
        await snapshotCustomer(
          { partnerCenter: deps.partnerCenter, writer, now: () => takenAt },
          { runId, record, call },
          customerProgress,
        );
        buffer.push({
          record,
          takenAt,
          outcome: 'written',
          subscriptionsWritten: customerProgress.subscriptionsWritten,
          resourcesWritten: customerProgress.resourcesWritten,
          subscriptionsFailed: 0,
        });
      } catch (error) {
        // Cancelled (budget, shutdown, lost lease): not checkpointed, so a later invocation redoes it.
        if (controller.signal.aborted) return;
        if (RUN_FATAL.has(errorCode(error) ?? '')) {
          fatal ??= error;
          controller.abort();
          return;
        }
        // Storage down or silent is not this customer's fault: end the invocation as when a
        // checkpoint cannot be written. Not checkpointed, so the resumed run redoes it.
        if (isStorageUnavailable(error)) {
          storageError ??= error;
          controller.abort();
          return;
        }
        const failure = failureOf(error);
        deps.logger.event('CustomerSnapshotFailed', { ...log, customerId: record.customerId, ...failure });
        try {
          await writer.markCustomerKnown(record.customerId, runId, takenAt);
        } catch (markError) {
          deps.logger.warn('Could not record a failed customer as known', { ...log, error: markError });
        }
        buffer.push({
          record,
          takenAt,
          outcome: 'failed',
          subscriptionsWritten: 0,
          resourcesWritten: 0,
          subscriptionsFailed: customerProgress.subscriptionsSeen,
          failure,
        });
      }
      if (buffer.length >= CHECKPOINT_BATCH || Date.now() - lastCheckpoint >= checkpointEvery) {
        try {
          await checkpoint();
        } catch (error) {
          storageError ??= error;
          controller.abort();
        }
      }
    };

    try {
      for await (const record of deps.partnerCenter.listCustomerUsageRecords(call)) {
        const key = customerKey(record.customerId);
        if (key === undefined) {
          deps.logger.event('CustomerSnapshotFailed', {
            ...log,
            customerId: record.customerId,
            code: 'InvalidKey',
          });
          continue;
        }
        if (finished.has(key)) continue;
        if (controller.signal.aborted || fatal !== undefined) break;
        if (Date.now() >= deadline) {
          stoppedEarly = true;
          break;
        }
        // Mark it taken now: a customer listed twice in one stream is snapshotted once.
        finished.add(key);
        while (inFlight.size >= deps.settings.customerConcurrency) await Promise.race(inFlight);
        const task: Promise<void> = processCustomer(record).finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
    } catch (error) {
      if (!controller.signal.aborted) listError = error;
    }
    await Promise.allSettled(inFlight);
    clearTimeout(hardStop);
    // Storage failing under the checkpoint: end this invocation; the lease lapses and the resume
    // timer continues the run from its last checkpoint.
    if (storageError !== undefined) throw storageError;
    await checkpoint();
    if (controller.signal.aborted && fatal === undefined && !leaseLost) stoppedEarly = true;

    if (leaseLost) return { kind: 'leaseLost', runId };
    if (fatal !== undefined) {
      return await finish({ state: 'failed', reason: reasonOf('Run stopped', fatal), counts: { ...totals } });
    }
    if (listError !== undefined) {
      return await finish({
        state: 'failed',
        reason: reasonOf('Customers list failed', listError),
        counts: { ...totals },
      });
    }
    if (stoppedEarly) return await stopEarly(totals);

    if (totals.customersWritten === 0 && totals.customersFailed > 0) {
      return await finish({ state: 'failed', reason: 'Every customer failed', counts: { ...totals } });
    }
    await writer.publishPartner(runId, partner.takenAt, partner.summary);
    const state = totals.customersFailed > 0 ? 'partial' : 'succeeded';
    return await finish({
      state,
      reason: state === 'partial' ? `${totals.customersFailed} customer(s) failed` : undefined,
      counts: { ...totals },
    });
  } finally {
    clearInterval(heartbeat);
    deps.signal?.removeEventListener('abort', onOuterAbort);
  }

  async function stopEarly(totals?: RunTotals): Promise<InvocationOutcome> {
    await serial(async () => {
      if (!leaseLost)
        await runs.releaseLease(lease, {
          invocations: run.invocations,
          counts: totals ? { ...totals } : undefined,
        });
    });
    if (leaseLost) return { kind: 'leaseLost', runId };
    deps.logger.info('Snapshot run yielded; the resume timer continues it', { ...log, counts: totals });
    return { kind: 'yielded', run: toRunRecord({ ...run, counts: { ...run.counts, ...totals } }) };
  }
}

/** The id as a key part; undefined for an id no Table key can hold (logged and skipped). */
function customerKey(customerId: string): string | undefined {
  try {
    return keyPart(customerId);
  } catch {
    return undefined;
  }
}

function failureOf(error: unknown): { code: string; status?: number; message: string } {
  const status = (error as { status?: unknown }).status;
  return {
    code: errorCode(error) ?? (error as { code?: unknown }).code?.toString() ?? 'Error',
    status: typeof status === 'number' ? status : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

function reasonOf(what: string, error: unknown): string {
  const f = failureOf(error);
  return `${what}: ${f.code}${f.status !== undefined ? ` ${f.status}` : ''}: ${f.message}`.slice(0, 2000);
}
