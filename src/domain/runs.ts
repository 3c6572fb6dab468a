import { AppError } from './errors';

/**
 * Snapshot runs: what a run is, how one is asked for, and the store that records runs and the
 * snapshot lease (one active run at a time, worked on by one invocation at a time).
 */
export type RunState = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed';

export interface RunRecord {
  runId: string;
  state: RunState;
  trigger: 'timer' | 'manual' | 'cli';
  correlationId: string;
  requestedAt: string;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  counts: {
    customersWritten: number;
    /** Written customers whose detail was read from Partner Center (absent on older runs). */
    customersFetched?: number;
    /** Written customers carried over from their last snapshot: their monthly record had not moved. */
    customersCarriedOver?: number;
    customersFailed: number;
    subscriptionsWritten: number;
    /** Subscriptions of failed customers that were discovered before the customer failed. */
    subscriptionsFailed?: number;
    resourcesWritten: number;
  };
  /** How many invocations (time budgets) the run has taken so far. */
  invocations?: number;
}

export type RunCounts = RunRecord['counts'];

export interface StoredRun extends RunRecord {
  /** The partner usage summary read at the run's start, kept so a resumed run publishes it. */
  partnerSummaryJson?: string;
  partnerTakenAt?: string;
  invocations: number;
}

export interface Lease {
  runId: string;
  holder: string;
  etag: string;
  expiresAt: Date;
}

/** What an invocation changes on its run record when it renews, releases or finishes. */
export interface RunPatch {
  state?: RunState;
  startedAt?: string;
  finishedAt?: string;
  reason?: string;
  counts?: Partial<RunCounts>;
  partnerSummaryJson?: string;
  partnerTakenAt?: string;
  invocations?: number;
}

export interface ActiveRun {
  run: StoredRun;
  /** Who holds the lease now, if anyone; a lapsed lease counts as free. */
  holder?: string;
  leaseExpiresAt?: Date;
}

/**
 * Run records and the snapshot lease. Every lease change is conditional on the lease's ETag, so
 * two invocations never both win it, and a dead holder's lease simply lapses.
 */
export interface RunStore {
  /** Queues a run, unless one is queued or running (RunAlreadyActiveError). */
  createRun(trigger: RunRecord['trigger']): Promise<StoredRun>;
  getRun(runId: string): Promise<StoredRun | undefined>;
  /** Newest first. */
  listRuns(limit: number): Promise<StoredRun[]>;
  /** Oldest first. */
  runsRequestedBefore(before: Date): AsyncIterable<StoredRun>;
  deleteRun(runId: string): Promise<void>;
  /** The queued or running run, with its lease holder if the lease is live. */
  activeRun(): Promise<ActiveRun | undefined>;
  /** Takes the lease on active run `runId` for `ttlMs`; undefined when another holder has it. */
  acquireLease(runId: string, holder: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends the lease and saves progress in one transaction; LeaseLostError when it was taken over. */
  renewLease(lease: Lease, ttlMs: number, patch?: RunPatch): Promise<Lease>;
  /** Gives the lease up, leaving the run active (it continues in a later invocation). */
  releaseLease(lease: Lease, patch?: RunPatch): Promise<void>;
  /** Ends the run (succeeded, partial or failed) and frees the lease, in one transaction. */
  finishRun(lease: Lease, patch: RunPatch & { state: RunState }): Promise<void>;
}

/** Asking for a run now (POST /api/v1/snapshots). */
export interface RunRequester {
  /** Queues a run and returns it; throws RunAlreadyActiveError (code "RunAlreadyActive") when one is queued or running. */
  requestRun(trigger: RunRecord['trigger']): Promise<RunRecord>;
}

/** A run is already queued or running; `runId` names it. */
export class RunAlreadyActiveError extends AppError {
  readonly code = 'RunAlreadyActive';
  constructor(readonly runId: string) {
    super(`Snapshot run ${runId} is already queued or running`);
  }
}

/** The snapshot lease was taken over (it lapsed while this holder was stalled): stop writing. */
export class LeaseLostError extends AppError {
  readonly code = 'LeaseLost';
}

/** The public shape of a run (no internal fields). */
export function toRunRecord(run: StoredRun): RunRecord {
  const { partnerSummaryJson: _p, partnerTakenAt: _t, ...record } = run;
  return record;
}
