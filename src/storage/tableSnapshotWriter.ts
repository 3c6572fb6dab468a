import { createHash, randomBytes } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { resourceGroupCosts, type SubscriptionDetail } from '../domain/azurePlan';
import { isOverBudget } from '../domain/budget';
import { sumCustomerTotals, type CustomerTotals, type TotalsRecord } from '../domain/customerTotals';
import {
  hasResourceBreakdown,
  type AzureResourceMonthlyUsageRecord,
  type CustomerMonthlyUsageRecord,
  type CustomerUsageSummary,
  type PartnerUsageSummary,
  type SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import {
  addEntry,
  type CarryOverInput,
  type CommittedCustomer,
  type CustomerListEntry,
  type CustomerSnapshot,
  type RunTotals,
  type SnapshotWriter,
  type SubscriptionSnapshot,
  type TakenCustomers,
} from '../domain/snapshotWriter';
import { isConflict, isNotFound, isStorageUnavailable } from './errors';
import {
  customerPartition,
  historyRowKey,
  keyPart,
  PARTNER_PARTITION,
  resourceGroupHistoryRowKey,
  runListPartition,
  subscriptionHistoryRowKey,
  subscriptionPartRow,
  type PartSlot,
  VIEW_ROW,
} from './keys';
import { checkAction, PartitionBatch, writePartition, type TableMetrics } from './partitionWriter';
import {
  assertEntityWithinLimits,
  EntityTooLargeError,
  MAX_BATCH_OPERATIONS,
  MAX_BATCH_PAYLOAD_BYTES,
  payloadBytes,
  type EntityLike,
} from './tableLimits';
import { defined, type UsageTableName } from './usageTables';
import { CorruptViewError, queryView, viewEntities } from './viewDocument';

/** Headers of a customer's or subscription's latest view (see viewDocument.ts). */
export interface ViewState {
  runId: string;
  takenAt: string;
  state: 'found' | 'notSnapshotted';
}

export interface CustomerViewBody {
  summary?: CustomerUsageSummary;
  subscriptions: SubscriptionMonthlyUsageRecord[];
}

export interface SubscriptionViewBody {
  subscription: SubscriptionMonthlyUsageRecord;
  resources: AzureResourceMonthlyUsageRecord[];
  /** Absent in views written before the snapshot read it. */
  detail?: SubscriptionDetail;
}

const replace = (entity: EntityLike): TransactionAction => ['upsert', entity, 'Replace'];

/**
 * One customer being written: its parts go to the slot its committed view does not name, so they
 * stay invisible until `commitCustomer` flips the view (and with it the slot) in one transaction.
 */
interface CustomerWrite {
  partitionKey: string;
  slot: PartSlot;
  /** Names this write; every part row carries it, and the view that commits it. */
  version: string;
  /** ETag of the view as read at the start: the flip is conditional on it. Undefined: no view yet. */
  etag?: string;
  /** When this run committed the customer before (a redo after a cut-off invocation). */
  committedAt?: Date;
  /** The committed view's header as read at the start (selected properties), if there is one. */
  committed?: Record<string, unknown>;
  batch: PartitionBatch;
  /** History rows of the Azure plans' resource groups written so far; they go out with the commit. */
  resourceGroupHistory: EntityLike[];
}

/**
 * The snapshot's writes over Table Storage. A customer's parts (its subscriptions' resources
 * views) are written to the free one of two slots in the customer's partition, then the
 * customer's view flips to that slot in one entity-group transaction with its history points:
 * readers see all of a customer's new snapshot or none of it. Also the run's customers list (its
 * checkpoint) and the partner view.
 */
export class TableSnapshotWriter implements SnapshotWriter {
  private readonly writes = new Map<string, CustomerWrite>();

  constructor(
    private readonly tables: Record<UsageTableName, TableClient>,
    private readonly metrics: TableMetrics,
  ) {}

  /**
   * Starts writing a customer: checks that its list row can be stored (EntityTooLarge otherwise,
   * before anything is written) and reads its view's header once (slot, ETag, this run's commit).
   */
  async beginCustomer(input: {
    runId: string;
    customerId: string;
    record: CustomerMonthlyUsageRecord;
  }): Promise<{ committedAt?: Date; committed?: CommittedCustomer }> {
    assertEntityWithinLimits(listRow(input.runId, writtenEntry(input.record)));
    const write = await this.open(input.runId, input.customerId);
    const row = write.committed;
    const takenAt = typeof row?.takenAt === 'string' ? new Date(row.takenAt) : undefined;
    if (row?.state !== 'found' || row.slot === undefined || !takenAt || Number.isNaN(takenAt.getTime()))
      return { committedAt: write.committedAt };
    return {
      committedAt: write.committedAt,
      committed: {
        takenAt,
        periodStart: [row.periodStart, row.billingStartDate].find((v): v is string => typeof v === 'string'),
        sameRecord: row.recordHash === recordHash(input.record),
      },
    };
  }

  /**
   * Keeps the customer's committed view as this run's: no part is read or rewritten (the view names
   * its slot and version, which stay), so every view the customer has is carried over as it is.
   * One transaction: a merge of the view header naming this run (conditional on the ETag read at
   * the start, and so that a redo reuses the same takenAt) and the run's history points, built from
   * the committed view's body exactly as its commit built them.
   */
  async carryOverCustomer(input: CarryOverInput): Promise<{ subscriptions: number } | undefined> {
    const key = writeKey(input.runId, input.customerId);
    const write = this.writes.get(key) ?? (await this.open(input.runId, input.customerId));
    try {
      const view = await queryView<{ runId: string }, CustomerViewBody>(
        this.tables.customers,
        this.metrics,
        write.partitionKey,
      ).catch((error: unknown) => {
        if (error instanceof CorruptViewError) return undefined;
        throw error;
      });
      // Gone or torn since the header was read: nothing to carry; the customer is read instead.
      if (!view?.body || write.etag === undefined) return undefined;
      const history = historyRows(write.partitionKey, {
        runId: input.runId,
        takenAt: input.takenAt,
        summary: view.body.summary,
        record: input.record,
        subscriptions: view.body.subscriptions,
      });
      const mark: TransactionAction = [
        'update',
        {
          partitionKey: write.partitionKey,
          rowKey: VIEW_ROW,
          carriedRunId: input.runId,
          carriedAt: input.takenAt.toISOString(),
        },
        'Merge',
        { etag: write.etag },
      ];
      const groups = await this.carriedResourceGroupHistory(write, input, view.body.subscriptions);
      await this.sendWithHistory(
        write,
        [mark, replace(history.customer)],
        [...history.subscriptions, ...groups].map(replace),
      );
      return { subscriptions: view.body.subscriptions.length };
    } finally {
      this.writes.delete(key);
    }
  }

  /**
   * The resource-group history points a commit of the carried view would have added: read from
   * each Azure plan's committed part (one query per plan; legacy subscriptions have none), so a
   * group's history has a point for every run, carried or not.
   */
  private async carriedResourceGroupHistory(
    write: CustomerWrite,
    input: CarryOverInput,
    subscriptions: readonly SubscriptionMonthlyUsageRecord[],
  ): Promise<EntityLike[]> {
    const slot = write.committed?.slot;
    if (slot !== 'a' && slot !== 'b') return [];
    const rows: EntityLike[] = [];
    for (const subscription of subscriptions) {
      if (hasResourceBreakdown(subscription)) continue;
      const part = await queryView<
        { runId: string; billingStartDate?: string; billingEndDate?: string },
        SubscriptionViewBody
      >(
        this.tables.customers,
        this.metrics,
        write.partitionKey,
        subscriptionPartRow(subscription.subscriptionId, slot),
      );
      if (!part?.body.detail) continue;
      rows.push(
        ...resourceGroupHistoryRows(write.partitionKey, {
          runId: input.runId,
          customerId: input.customerId,
          takenAt: input.takenAt,
          subscription: part.body.subscription,
          hasResourceBreakdown: false,
          resources: [],
          detail: part.body.detail,
          billingStartDate: part.header.billingStartDate,
          billingEndDate: part.header.billingEndDate,
        }),
      );
    }
    return rows;
  }

  /** Forgets a customer's unfinished write (it failed or was cancelled); its parts stay invisible. */
  discardCustomer(customerId: string, runId: string): void {
    this.writes.delete(writeKey(runId, customerId));
  }

  /** Adds one subscription's resources view to the customer's free slot (invisible until the commit). */
  async writeSubscription(input: SubscriptionSnapshot): Promise<void> {
    const write =
      this.writes.get(writeKey(input.runId, input.customerId)) ??
      (await this.open(input.runId, input.customerId));
    const body: SubscriptionViewBody = {
      subscription: input.subscription,
      resources: input.resources,
      ...(input.detail ? { detail: input.detail } : {}),
    };
    const rows = viewEntities(
      write.partitionKey,
      defined({
        ...foundHeader(input),
        version: write.version,
        subscriptionId: input.subscription.subscriptionId,
        offerId: input.subscription.offerId,
        hasResourceBreakdown: input.hasResourceBreakdown,
        resourceCount: input.resources.length,
        meterCount: input.detail?.meters.length,
        planResourceCount: input.detail?.resources.length,
        azureSubscriptionCount: input.detail?.azureSubscriptions.length,
        billingStartDate: input.billingStartDate,
        billingEndDate: input.billingEndDate,
      }),
      body,
      subscriptionPartRow(input.subscription.subscriptionId, write.slot),
    );
    await write.batch.add(rows.map(replace));
    // Checked now, so a group the store cannot key fails the customer before its commit.
    const history = resourceGroupHistoryRows(write.partitionKey, input);
    for (const row of history) assertEntityWithinLimits(row);
    write.resourceGroupHistory.push(...history);
  }

  /**
   * Flips the customer's view to this write's slot and adds its history points (customer totals
   * and each subscription's totals), in one transaction with the parts still pending. History
   * rows that do not fit follow in later transactions, so history never runs ahead of the view.
   */
  async commitCustomer(input: CustomerSnapshot): Promise<void> {
    const key = writeKey(input.runId, input.customerId);
    const write = this.writes.get(key) ?? (await this.open(input.runId, input.customerId));
    try {
      await this.commit(write, input);
    } finally {
      this.writes.delete(key);
    }
  }

  private async commit(write: CustomerWrite, input: CustomerSnapshot): Promise<void> {
    const partitionKey = write.partitionKey;
    const billing = {
      billingStartDate: input.summary?.billingStartDate,
      billingEndDate: input.summary?.billingEndDate,
    };
    const body: CustomerViewBody = { summary: input.summary, subscriptions: input.subscriptions };
    const [header, ...parts] = viewEntities(
      partitionKey,
      defined({
        ...foundHeader(input),
        slot: write.slot,
        version: write.version,
        subscriptionCount: input.subscriptions.length,
        ...billing,
        // What a later run compares its monthly record and its billing period with (see beginCustomer).
        recordHash: recordHash(input.record),
        periodStart: input.periodStart,
      }),
      body,
    );
    const history = historyRows(partitionKey, input);
    // The flip: conditional on the view read at the start, so a second writer of this customer
    // (an invocation that lost its lease) cannot flip it under this one.
    const flip: TransactionAction =
      write.etag === undefined ? ['create', header] : ['update', header, 'Replace', { etag: write.etag }];
    await this.sendWithHistory(
      write,
      [flip, ...parts.map(replace), replace(history.customer)],
      // The Azure plans' resource-group points, like the subscriptions', never run ahead of the view.
      [...history.subscriptions, ...write.resourceGroupHistory].map(replace),
    );
  }

  /**
   * Sends `atomic` (a view change and the customer's history point) in one transaction with the
   * parts still pending, then as many subscription history points as fit; the rest follow, so
   * history never runs ahead of the view.
   */
  private async sendWithHistory(
    write: CustomerWrite,
    atomic: TransactionAction[],
    subscriptionHistory: TransactionAction[],
  ): Promise<void> {
    const partitionKey = write.partitionKey;
    for (const action of [...atomic, ...subscriptionHistory]) checkAction(action);
    const atomicBytes = atomic.reduce((sum, a) => sum + payloadBytes(a[1]), 0);
    if (atomic.length > MAX_BATCH_OPERATIONS || atomicBytes > MAX_BATCH_PAYLOAD_BYTES)
      throw new EntityTooLargeError(
        `${partitionKey}: the view needs ${atomic.length} entities / ${atomicBytes} bytes, over one transaction's limits`,
      );
    await write.batch.addTogether(atomic);
    let next = 0;
    while (next < subscriptionHistory.length && write.batch.fits([subscriptionHistory[next]]))
      write.batch.push(subscriptionHistory[next++]);
    await write.batch.send();
    if (next < subscriptionHistory.length)
      await writePartition(this.tables.customers, this.metrics, subscriptionHistory.slice(next));
  }

  /** Reads the customer's view header (one point read) and opens a write to the other slot. */
  private async open(runId: string, customerId: string): Promise<CustomerWrite> {
    const partitionKey = customerPartition(customerId);
    let row: Record<string, unknown> | undefined;
    try {
      this.metrics.roundTrips++;
      row = await this.tables.customers.getEntity<Record<string, unknown>>(partitionKey, VIEW_ROW, {
        queryOptions: {
          select: [
            'runId',
            'state',
            'takenAt',
            'slot',
            'billingStartDate',
            'periodStart',
            'recordHash',
            'carriedRunId',
            'carriedAt',
          ],
        },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const write: CustomerWrite = {
      partitionKey,
      slot: row?.slot === 'a' ? 'b' : 'a',
      version: `${runId}.${randomBytes(4).toString('hex')}`,
      etag: row?.etag as string | undefined,
      committedAt:
        row && row.runId === runId && row.state === 'found' && typeof row.takenAt === 'string'
          ? new Date(row.takenAt)
          : row?.carriedRunId === runId && typeof row.carriedAt === 'string'
            ? new Date(row.carriedAt)
            : undefined,
      committed: row,
      batch: new PartitionBatch(this.tables.customers, this.metrics),
      resourceGroupHistory: [],
    };
    this.writes.set(writeKey(runId, customerId), write);
    return write;
  }

  /**
   * A customer that failed before it ever had a view gets a placeholder, so the API can say
   * "known, not snapshotted yet" rather than "unknown". An existing view is left alone.
   */
  async markCustomerKnown(customerId: string, runId: string, takenAt: Date): Promise<void> {
    try {
      this.metrics.roundTrips++;
      await this.tables.customers.createEntity({
        partitionKey: customerPartition(customerId),
        rowKey: VIEW_ROW,
        runId,
        takenAt: takenAt.toISOString(),
        state: 'notSnapshotted',
        customerId,
        parts: 0,
        chunks: 0,
      });
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
  }

  /** Answers when Table Storage answers (one point read of a row that need not exist). */
  async probe(): Promise<void> {
    try {
      this.metrics.roundTrips++;
      await this.tables.customers.getEntity('probe', 'probe', { queryOptions: { select: ['RowKey'] } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** Records finished customers in the run's list partition (100 per transaction). */
  async recordCustomers(runId: string, entries: readonly CustomerListEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => listRow(runId, e));
    try {
      await writePartition(this.tables.customerLists, this.metrics, rows.map(replace));
    } catch (error) {
      // One row the service will not take (refused, or a 500 that only its data causes) must not
      // cost the others their checkpoint: row by row. When storage is down, the first row throws.
      if (rows.length === 1 && !isRefused(error)) throw error;
      for (const row of rows) await this.recordRow(row);
    }
  }

  /** One list row alone; refused alone, it is kept without its record, naming why (not listed). */
  private async recordRow(row: EntityLike): Promise<void> {
    const upsert = async (entity: EntityLike) => {
      this.metrics.roundTrips++;
      await this.tables.customerLists.upsertEntity(entity, 'Replace');
    };
    try {
      await upsert(row);
    } catch (error) {
      if (!isRefused(error)) throw error;
      const failure = failureText(error);
      await upsert(
        defined({
          partitionKey: row.partitionKey,
          rowKey: row.rowKey,
          customerId: row.customerId,
          takenAt: row.takenAt,
          outcome: row.outcome,
          subscriptionsWritten: row.subscriptionsWritten,
          subscriptionsFailed: row.subscriptionsFailed,
          resourcesWritten: row.resourcesWritten,
          failureCode: row.failureCode ?? 'ListRowRefused',
          failureStatus: row.failureStatus,
          failureMessage: row.failureMessage ?? failure,
          listRowRefused: failure,
        }),
      );
    }
  }

  /**
   * What the run has finished so far, from its list partition (one single-partition query): the
   * customers done and exact totals over them.
   */
  async runProgress(runId: string): Promise<{ finished: TakenCustomers; totals: RunTotals }> {
    const finished = new Set<string>();
    const totals: RunTotals = {
      customersWritten: 0,
      customersFetched: 0,
      customersCarriedOver: 0,
      customersFailed: 0,
      subscriptionsWritten: 0,
      subscriptionsFailed: 0,
      resourcesWritten: 0,
    };
    const rows = this.tables.customerLists.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${runListPartition(runId)}`,
        select: [
          'RowKey',
          'outcome',
          'carriedOver',
          'subscriptionsWritten',
          'subscriptionsFailed',
          'resourcesWritten',
        ],
      },
    });
    for await (const page of rows.byPage({ maxPageSize: 1000 })) {
      this.metrics.roundTrips++;
      for (const row of page) {
        finished.add(row.rowKey as string);
        addEntry(totals, row);
      }
    }
    return { finished: new TableTakenCustomers(finished), totals };
  }

  /**
   * Makes run `runId` the partner-level view: the partner summary and, through the view's runId,
   * that run's customers list. One transaction, at the run's end only.
   */
  async publishPartner(runId: string, takenAt: Date, summary: PartnerUsageSummary): Promise<void> {
    // The app's own totals ride in the same view, so they flip with the summary and the list.
    const customerTotals = await this.customerTotals(runId);
    const view = viewEntities(
      PARTNER_PARTITION,
      defined({
        runId,
        takenAt: takenAt.toISOString(),
        state: 'found',
        billingStartDate: summary.billingStartDate,
        billingEndDate: summary.billingEndDate,
      }),
      { ...summary, customerTotals } satisfies PartnerViewBody,
    );
    const history = defined({
      partitionKey: PARTNER_PARTITION,
      rowKey: historyRowKey(takenAt.getTime(), runId),
      kind: 'partner',
      runId,
      takenAt: takenAt.toISOString(),
      billingStartDate: summary.billingStartDate,
      billingEndDate: summary.billingEndDate,
      totalCost: summary.totalCost,
      currencyCode: summary.currencyCode,
      currencyLocale: summary.currencyLocale,
    });
    await writePartition(this.tables.customers, this.metrics, [], [...view.map(replace), replace(history)]);
  }

  /** Every customer's monthly record of the run, summed per currency: one pass over its list partition. */
  private async customerTotals(runId: string): Promise<CustomerTotals> {
    const rows = this.tables.customerLists.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${runListPartition(runId)}`,
        select: ['totalCost', 'usdTotalCost', 'currencyCode', 'currencyLocale', 'isUpgraded'],
      },
    });
    const records: TotalsRecord[] = [];
    for await (const page of rows.byPage({ maxPageSize: 1000 })) {
      this.metrics.roundTrips++;
      for (const row of page)
        records.push({
          totalCost: row.totalCost as string | undefined,
          usdTotalCost: row.usdTotalCost as string | undefined,
          currencyCode: row.currencyCode as string | undefined,
          currencyLocale: row.currencyLocale as string | undefined,
          isUpgraded: row.isUpgraded === true,
        });
    }
    return sumCustomerTotals(records);
  }
}

/**
 * The customers a run has taken, compared as the Table keys they are stored under (so ids that
 * differ only in case are one customer); the snapshot asks by id and never sees a key.
 */
/** The partner view's body: Partner Center's summary and the app's totals over the run's customers. */
export type PartnerViewBody = PartnerUsageSummary & { customerTotals?: CustomerTotals };

export class TableTakenCustomers implements TakenCustomers {
  constructor(private readonly keys: Set<string>) {}

  /** `taken` when the run has it already, `invalidId` when no Table key can hold the id. */
  status(customerId: string): 'new' | 'taken' | 'invalidId' {
    const key = keyOf(customerId);
    if (key === undefined) return 'invalidId';
    return this.keys.has(key) ? 'taken' : 'new';
  }

  take(customerId: string): void {
    const key = keyOf(customerId);
    if (key !== undefined) this.keys.add(key);
  }

  get size(): number {
    return this.keys.size;
  }

  /** The taken customers' keys (lower-cased ids). */
  [Symbol.iterator](): IterableIterator<string> {
    return this.keys.values();
  }
}

/**
 * A customer's history points for one run: the customer's totals (its summary's, else its monthly
 * record's) and each subscription's. The commit and a carry-over build them alike, so a carried
 * customer's history reads as a fetched one's would.
 */
function historyRows(
  partitionKey: string,
  input: Pick<CustomerSnapshot, 'runId' | 'takenAt' | 'summary' | 'subscriptions'> & {
    record: Pick<
      CustomerMonthlyUsageRecord,
      'totalCost' | 'usdTotalCost' | 'currencyCode' | 'currencyLocale'
    >;
  },
): { customer: EntityLike; subscriptions: EntityLike[] } {
  const takenAtMs = input.takenAt.getTime();
  const point = {
    runId: input.runId,
    takenAt: input.takenAt.toISOString(),
    billingStartDate: input.summary?.billingStartDate,
    billingEndDate: input.summary?.billingEndDate,
  };
  const totals = input.summary ?? input.record;
  return {
    customer: defined({
      partitionKey,
      rowKey: historyRowKey(takenAtMs, input.runId),
      kind: 'customer',
      ...point,
      totalCost: totals.totalCost,
      usdTotalCost: totals.usdTotalCost,
      currencyCode: totals.currencyCode,
      currencyLocale: totals.currencyLocale,
    }),
    subscriptions: input.subscriptions.map((s) =>
      defined({
        partitionKey,
        rowKey: subscriptionHistoryRowKey(s.subscriptionId, takenAtMs, input.runId),
        kind: 'subscription',
        subscriptionId: s.subscriptionId,
        ...point,
        totalCost: s.totalCost,
        usdTotalCost: s.usdTotalCost,
        currencyCode: s.currencyCode,
        currencyLocale: s.currencyLocale,
      }),
    ),
  };
}

/**
 * A fingerprint of a customer's monthly record: every field, in a fixed order. Two records with
 * the same fingerprint say the customer's usage, budget and currency have not moved.
 */
function recordHash(record: CustomerMonthlyUsageRecord): string {
  const fields = Object.keys(record)
    .sort()
    .map((k) => [k, (record as unknown as Record<string, unknown>)[k]]);
  return createHash('sha256').update(JSON.stringify(fields)).digest('base64url');
}

/** The header fields every view this run writes for a customer starts with. */
function foundHeader(input: { runId: string; customerId: string; takenAt: Date }) {
  return {
    runId: input.runId,
    takenAt: input.takenAt.toISOString(),
    state: 'found',
    customerId: input.customerId,
  };
}

function keyOf(customerId: string): string | undefined {
  try {
    return keyPart(customerId);
  } catch {
    return undefined;
  }
}

/** Table Storage answered, and refused the request (4xx other than a conflict): the data, not the service. */
function isRefused(error: unknown): boolean {
  const status = (error as { statusCode?: unknown }).statusCode;
  return (
    !isStorageUnavailable(error) &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500 &&
    status !== 409 &&
    status !== 412
  );
}

function failureText(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  return `${String(e.code ?? 'Refused')}: ${String(e.message ?? error)}`.slice(0, 1000);
}

const writeKey = (runId: string, customerId: string) => `${runId}|${customerPartition(customerId)}`;

/** The list row a customer written by this run would get, to check it can be stored before any write. */
function writtenEntry(record: CustomerMonthlyUsageRecord): CustomerListEntry {
  return {
    record,
    takenAt: new Date(0),
    outcome: 'written',
    subscriptionsWritten: 0,
    subscriptionsFailed: 0,
    resourcesWritten: 0,
  };
}

/** What a failed customer's list row keeps whatever happens: its key, identity and outcome. */
const KEPT = new Set([
  'partitionKey',
  'rowKey',
  'customerId',
  'takenAt',
  'outcome',
  'failureCode',
  'failureMessage',
]);

/**
 * A customer's row in the run's list. A written customer's row always fits (`beginCustomer`
 * checked it first). A failed customer's record may not: then each record field that breaks a
 * limit is left out, largest first, and named in `omittedFields`, so one customer's data can never
 * fail the checkpoint of the others. The reader does not list a row that lost its totalCost.
 */
function listRow(runId: string, entry: CustomerListEntry): EntityLike {
  const row = fullListRow(runId, entry);
  if (entry.outcome !== 'failed') return row;
  const omitted: string[] = [];
  for (;;) {
    try {
      assertEntityWithinLimits(row);
      return omitted.length > 0 ? { ...row, omittedFields: omitted.join(',') } : row;
    } catch (error) {
      if (!(error instanceof EntityTooLargeError)) throw error;
      const largest = Object.keys(row)
        .filter((f) => typeof row[f] === 'string' && !KEPT.has(f))
        .sort((a, b) => String(row[b]).length - String(row[a]).length)[0];
      if (largest === undefined) throw error;
      delete row[largest];
      omitted.push(largest);
    }
  }
}

function fullListRow(runId: string, entry: CustomerListEntry): EntityLike {
  const r = entry.record;
  return defined({
    partitionKey: runListPartition(runId),
    rowKey: keyPart(r.customerId),
    customerId: r.customerId,
    name: r.name,
    budget: r.budget,
    customerSpendingBudget: r.customerSpendingBudget,
    percentUsed: r.percentUsed,
    isUpgraded: r.isUpgraded,
    totalCost: r.totalCost,
    usdTotalCost: r.usdTotalCost,
    currencyCode: r.currencyCode,
    currencyLocale: r.currencyLocale,
    lastModifiedDate: r.lastModifiedDate,
    // Filter properties: typed so the filter runs server-side in the one partition.
    overBudget: isOverBudget(r),
    currencyCodeKey: r.currencyCode?.toUpperCase(),
    currencyLocaleKey: r.currencyLocale?.toUpperCase(),
    takenAt: entry.takenAt.toISOString(),
    outcome: entry.outcome,
    carriedOver: entry.carriedOver === true ? true : undefined,
    subscriptionsWritten: entry.subscriptionsWritten,
    subscriptionsFailed: entry.subscriptionsFailed,
    resourcesWritten: entry.resourcesWritten,
    failureCode: entry.failure?.code.slice(0, 200),
    failureStatus: entry.failure?.status,
    failureMessage: entry.failure?.message.slice(0, 1000),
  });
}

/**
 * One history row per resource group of an Azure plan's resources (per Azure subscription), at
 * the snapshot's time: the group's cost, summed exactly. Resources outside any group have none.
 */
function resourceGroupHistoryRows(partitionKey: string, input: SubscriptionSnapshot): EntityLike[] {
  const takenAtMs = input.takenAt.getTime();
  return resourceGroupCosts(input.detail?.resources ?? [])
    .filter((g) => g.resourceGroup !== undefined)
    .map((g) =>
      defined({
        partitionKey,
        rowKey: resourceGroupHistoryRowKey(
          input.subscription.subscriptionId,
          g.resourceGroup as string,
          g.azureSubscriptionId,
          takenAtMs,
          input.runId,
        ),
        kind: 'resourceGroup',
        subscriptionId: input.subscription.subscriptionId,
        azureSubscriptionId: g.azureSubscriptionId,
        resourceGroup: g.resourceGroup,
        resourceCount: g.resourceCount,
        runId: input.runId,
        takenAt: input.takenAt.toISOString(),
        billingStartDate: input.billingStartDate,
        billingEndDate: input.billingEndDate,
        totalCost: g.totalCost,
        usdTotalCost: g.usdTotalCost,
        currencyCode: g.currencyCode,
        currencyLocale: g.currencyLocale,
      }),
    );
}
