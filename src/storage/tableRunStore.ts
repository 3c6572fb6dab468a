import { odata, type TableClient, type TableEntityResult, type TransactionAction } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import {
  LeaseLostError,
  RunAlreadyActiveError,
  type ActiveRun,
  type Lease,
  type RunCounts,
  type RunPatch,
  type RunRecord,
  type RunState,
  type RunStore,
  type StoredRun,
} from '../domain/runs';
import { isConflict, isNotFound, isPreconditionFailed } from './errors';
import { LEASE_ROW, newRunId, RUNS_PARTITION, runRowKey } from './keys';
import { checkAction, type TableMetrics } from './partitionWriter';
import { jsonText } from './viewDocument';

const ZERO_COUNTS: RunCounts = {
  customersWritten: 0,
  customersFetched: 0,
  customersCarriedOver: 0,
  customersFailed: 0,
  subscriptionsWritten: 0,
  subscriptionsFailed: 0,
  resourcesWritten: 0,
};

type Row = TableEntityResult<Record<string, unknown>>;

/**
 * Run records and the snapshot lease, in one partition of the Runs table so a state change and
 * the lease change that goes with it are one transaction. The lease row names the active
 * (queued or running) run and, while one invocation works on it, the holder and an expiry; every
 * change to it is ETag-conditional, so two invocations never both win it, and a dead holder's
 * lease simply lapses.
 */
export class TableRunStore implements RunStore {
  constructor(
    private readonly table: TableClient,
    private readonly metrics: TableMetrics,
    private readonly now: () => Date,
  ) {}

  /** Queues a run, unless one is queued or running (RunAlreadyActiveError). */
  async createRun(trigger: RunRecord['trigger']): Promise<StoredRun> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const lease = await this.readLease();
      if (lease.activeRunId) {
        const active = await this.getRun(lease.activeRunId);
        if (active && (active.state === 'queued' || active.state === 'running'))
          throw new RunAlreadyActiveError(active.runId);
      }
      const now = this.now();
      const run: StoredRun = {
        runId: newRunId(now),
        state: 'queued',
        trigger,
        correlationId: randomUUID(),
        requestedAt: now.toISOString(),
        counts: { ...ZERO_COUNTS },
        invocations: 0,
      };
      const actions: TransactionAction[] = [
        [
          'update',
          {
            partitionKey: RUNS_PARTITION,
            rowKey: LEASE_ROW,
            activeRunId: run.runId,
            holder: '',
            expiresAt: '',
          },
          'Merge',
          { etag: lease.etag },
        ],
        ['create', toEntity(run)],
      ];
      try {
        await this.submit(actions);
        return run;
      } catch (error) {
        // Another caller changed the lease row first: look again at what is active now.
        if (!isPreconditionFailed(error) && !isConflict(error)) throw error;
      }
    }
    const lease = await this.readLease();
    throw new RunAlreadyActiveError(lease.activeRunId || 'unknown');
  }

  async getRun(runId: string): Promise<StoredRun | undefined> {
    try {
      this.countRoundTrip();
      return fromEntity(
        await this.table.getEntity<Record<string, unknown>>(RUNS_PARTITION, runRowKey(runId)),
      );
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Newest first: run RowKeys are inverted times, and the lease row sorts after them all. */
  async listRuns(limit: number): Promise<StoredRun[]> {
    const runs: StoredRun[] = [];
    const pages = this.table
      .listEntities<Record<string, unknown>>({
        queryOptions: { filter: odata`PartitionKey eq ${RUNS_PARTITION} and RowKey lt ${LEASE_ROW}` },
      })
      .byPage({ maxPageSize: Math.min(Math.max(limit, 1), 1000) });
    for await (const page of pages) {
      this.countRoundTrip();
      for (const row of page) {
        runs.push(fromEntity(row));
        if (runs.length >= limit) return runs;
      }
    }
    return runs;
  }

  /** Runs requested before `before`, oldest first (for retention). */
  async *runsRequestedBefore(before: Date): AsyncIterable<StoredRun> {
    const rows = this.table.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${RUNS_PARTITION} and RowKey lt ${LEASE_ROW} and requestedAt lt ${before.toISOString()}`,
      },
    });
    const found: StoredRun[] = [];
    for await (const page of rows.byPage()) {
      this.countRoundTrip();
      for (const row of page) found.push(fromEntity(row));
    }
    yield* found.reverse();
  }

  async deleteRun(runId: string): Promise<void> {
    this.countRoundTrip();
    try {
      await this.table.deleteEntity(RUNS_PARTITION, runRowKey(runId));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** The queued or running run, with its lease, or undefined when none is. */
  async activeRun(): Promise<ActiveRun | undefined> {
    const lease = await this.readLease();
    if (!lease.activeRunId) return undefined;
    const run = await this.getRun(lease.activeRunId);
    if (!run || (run.state !== 'queued' && run.state !== 'running')) return undefined;
    const live = lease.holder !== '' && lease.expiresAt !== undefined && lease.expiresAt > this.now();
    return live ? { run, holder: lease.holder, leaseExpiresAt: lease.expiresAt } : { run };
  }

  /**
   * Takes the lease on the active run `runId` for `ttlMs`, when nobody holds it or the holder's
   * lease has lapsed. Undefined when another holder has it or wins the race.
   */
  async acquireLease(runId: string, holder: string, ttlMs: number): Promise<Lease | undefined> {
    const lease = await this.readLease();
    if (lease.activeRunId !== runId) return undefined;
    const now = this.now();
    if (lease.holder && lease.holder !== holder && lease.expiresAt && lease.expiresAt > now) return undefined;
    const expiresAt = new Date(now.getTime() + ttlMs);
    try {
      this.countRoundTrip();
      const result = await this.table.updateEntity(
        { partitionKey: RUNS_PARTITION, rowKey: LEASE_ROW, holder, expiresAt: expiresAt.toISOString() },
        'Merge',
        { etag: lease.etag },
      );
      const acquired: Lease = { runId, holder, etag: result.etag ?? '', expiresAt };
      return result.etag ? acquired : this.reread(acquired, expiresAt);
    } catch (error) {
      if (isPreconditionFailed(error)) return undefined;
      throw error;
    }
  }

  /** Extends the lease and saves progress in one transaction; LeaseLostError when it was taken over. */
  async renewLease(lease: Lease, ttlMs: number, patch: RunPatch = {}): Promise<Lease> {
    const expiresAt = new Date(this.now().getTime() + ttlMs);
    return this.changeLease(
      lease,
      { holder: lease.holder, expiresAt: expiresAt.toISOString() },
      patch,
      expiresAt,
    );
  }

  /** Gives the lease up, leaving the run active (it continues in a later invocation). */
  async releaseLease(lease: Lease, patch: RunPatch = {}): Promise<void> {
    await this.changeLease(lease, { holder: '', expiresAt: '' }, patch, new Date(0));
  }

  /** Ends the run (succeeded, partial or failed) and frees the lease, in one transaction. */
  async finishRun(lease: Lease, patch: RunPatch & { state: RunState }): Promise<void> {
    await this.changeLease(
      lease,
      { holder: '', expiresAt: '', activeRunId: '' },
      { finishedAt: this.now().toISOString(), ...patch },
      new Date(0),
    );
  }

  private async changeLease(
    lease: Lease,
    leaseProps: Record<string, string>,
    patch: RunPatch,
    expiresAt: Date,
  ): Promise<Lease> {
    const actions: TransactionAction[] = [
      [
        'update',
        { partitionKey: RUNS_PARTITION, rowKey: LEASE_ROW, ...leaseProps },
        'Merge',
        { etag: lease.etag },
      ],
    ];
    const runProps = patchProps(patch);
    if (Object.keys(runProps).length > 0)
      actions.push([
        'update',
        { partitionKey: RUNS_PARTITION, rowKey: runRowKey(lease.runId), ...runProps },
        'Merge',
      ]);
    try {
      const response = await this.submit(actions);
      const etag = response.getResponseForEntity(LEASE_ROW)?.etag ?? response.subResponses[0]?.etag;
      if (!etag) return this.reread(lease, expiresAt);
      return { ...lease, etag, expiresAt };
    } catch (error) {
      if (isPreconditionFailed(error))
        throw new LeaseLostError(`The lease on run ${lease.runId} was taken over by another invocation`);
      throw error;
    }
  }

  private countRoundTrip(): void {
    this.metrics.roundTrips++;
    this.metrics.runStoreRoundTrips++;
  }

  private async reread(lease: Lease, expiresAt: Date): Promise<Lease> {
    const current = await this.readLease();
    return { ...lease, etag: current.etag, expiresAt };
  }

  private async submit(actions: TransactionAction[]) {
    // A run record that breaks a limit (say, a partner summary too long to keep) is a typed
    // EntityTooLarge before it is sent, which the snapshot can tell from storage being down.
    for (const action of actions) checkAction(action);
    this.countRoundTrip();
    this.metrics.transactions++;
    return this.table.submitTransaction(actions);
  }

  private async readLease(): Promise<{
    etag: string;
    activeRunId: string;
    holder: string;
    expiresAt?: Date;
  }> {
    for (;;) {
      try {
        this.countRoundTrip();
        const row = await this.table.getEntity<Record<string, unknown>>(RUNS_PARTITION, LEASE_ROW);
        const expires = String(row.expiresAt ?? '');
        return {
          etag: row.etag,
          activeRunId: String(row.activeRunId ?? ''),
          holder: String(row.holder ?? ''),
          expiresAt: expires ? new Date(expires) : undefined,
        };
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      try {
        this.countRoundTrip();
        await this.table.createEntity({
          partitionKey: RUNS_PARTITION,
          rowKey: LEASE_ROW,
          activeRunId: '',
          holder: '',
          expiresAt: '',
        });
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
    }
  }
}

function patchProps(patch: RunPatch): Record<string, unknown> {
  const props: Record<string, unknown> = {};
  for (const key of [
    'state',
    'startedAt',
    'finishedAt',
    'reason',
    'partnerSummaryJson',
    'partnerTakenAt',
  ] as const) {
    if (patch[key] !== undefined)
      props[key] = key === 'partnerSummaryJson' ? jsonText(JSON.parse(patch[key])) : patch[key];
  }
  if (patch.invocations !== undefined) props.invocations = patch.invocations;
  for (const [name, value] of Object.entries(patch.counts ?? {}))
    if (value !== undefined) props[name] = value;
  return props;
}

function toEntity(run: StoredRun): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: RUNS_PARTITION,
    rowKey: runRowKey(run.runId),
    runId: run.runId,
    state: run.state,
    trigger: run.trigger,
    correlationId: run.correlationId,
    requestedAt: run.requestedAt,
    invocations: run.invocations,
    ...run.counts,
  };
}

function str(row: Row, name: string): string | undefined {
  const value = row[name];
  return value === undefined || value === null || value === '' ? undefined : String(value);
}

function num(row: Row, name: string): number {
  const value = Number(row[name] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

function fromEntity(row: Row): StoredRun {
  return {
    runId: String(row.runId),
    state: String(row.state) as RunState,
    trigger: String(row.trigger) as RunRecord['trigger'],
    correlationId: String(row.correlationId),
    requestedAt: String(row.requestedAt),
    startedAt: str(row, 'startedAt'),
    finishedAt: str(row, 'finishedAt'),
    reason: str(row, 'reason'),
    counts: {
      customersWritten: num(row, 'customersWritten'),
      // Runs recorded before incremental snapshots fetched every customer they wrote.
      customersFetched:
        row.customersFetched === undefined ? num(row, 'customersWritten') : num(row, 'customersFetched'),
      customersCarriedOver: num(row, 'customersCarriedOver'),
      customersFailed: num(row, 'customersFailed'),
      subscriptionsWritten: num(row, 'subscriptionsWritten'),
      subscriptionsFailed: num(row, 'subscriptionsFailed'),
      resourcesWritten: num(row, 'resourcesWritten'),
    },
    partnerSummaryJson: str(row, 'partnerSummaryJson'),
    partnerTakenAt: str(row, 'partnerTakenAt'),
    invocations: num(row, 'invocations'),
  };
}
