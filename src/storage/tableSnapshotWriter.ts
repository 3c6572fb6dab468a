import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { isOverBudget } from '../domain/budget';
import type {
  AzureResourceMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import {
  addEntry,
  type CustomerListEntry,
  type CustomerSnapshot,
  type RunTotals,
  type SnapshotWriter,
  type SubscriptionSnapshot,
  type TakenCustomers,
} from '../domain/snapshotWriter';
import { isConflict, isNotFound } from './errors';
import {
  customerPartition,
  historyRowKey,
  keyPart,
  PARTNER_PARTITION,
  resourcesPartition,
  runListPartition,
  subscriptionHistoryRowKey,
  VIEW_ROW,
} from './keys';
import { writePartition, type TableMetrics } from './partitionWriter';
import type { EntityLike } from './tableLimits';
import { defined, type UsageTableName } from './usageTables';
import { viewEntities } from './viewDocument';

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
}

const replace = (entity: EntityLike): TransactionAction => ['upsert', entity, 'Replace'];

/**
 * The write side of the cache. A customer's view and its history rows share its partition, so
 * the transaction that replaces the view also adds the history point: readers see the previous
 * complete snapshot until that one request, then the new one.
 */
/**
 * The snapshot's writes over Table Storage: views replaced in one entity-group transaction each,
 * history points beside them, the run's customers list (its checkpoint) and the partner view.
 */
export class TableSnapshotWriter implements SnapshotWriter {
  constructor(
    private readonly tables: Record<UsageTableName, TableClient>,
    private readonly metrics: TableMetrics,
  ) {}

  /** Replaces one subscription's resources view (one transaction). */
  async writeSubscription(input: SubscriptionSnapshot): Promise<void> {
    const partitionKey = resourcesPartition(input.customerId, input.subscription.subscriptionId);
    const body: SubscriptionViewBody = { subscription: input.subscription, resources: input.resources };
    const rows = viewEntities(
      partitionKey,
      defined({
        ...foundHeader(input),
        subscriptionId: input.subscription.subscriptionId,
        offerId: input.subscription.offerId,
        hasResourceBreakdown: input.hasResourceBreakdown,
        resourceCount: input.resources.length,
        billingStartDate: input.billingStartDate,
        billingEndDate: input.billingEndDate,
      }),
      body,
    );
    await writePartition(this.tables.resources, this.metrics, [], rows.map(replace));
  }

  /**
   * Replaces a customer's view and adds its history points (customer totals and each
   * subscription's totals). Write the subscriptions' resources first: this is the flip.
   */
  async commitCustomer(input: CustomerSnapshot): Promise<void> {
    const partitionKey = customerPartition(input.customerId);
    const takenAtMs = input.takenAt.getTime();
    const billing = {
      billingStartDate: input.summary?.billingStartDate,
      billingEndDate: input.summary?.billingEndDate,
    };
    const body: CustomerViewBody = { summary: input.summary, subscriptions: input.subscriptions };
    const view = viewEntities(
      partitionKey,
      defined({
        ...foundHeader(input),
        subscriptionCount: input.subscriptions.length,
        ...billing,
      }),
      body,
    );
    const totals = input.summary ?? input.record;
    const history: EntityLike = defined({
      partitionKey,
      rowKey: historyRowKey(takenAtMs, input.runId),
      kind: 'customer',
      runId: input.runId,
      takenAt: input.takenAt.toISOString(),
      ...billing,
      totalCost: totals.totalCost,
      usdTotalCost: totals.usdTotalCost,
      currencyCode: totals.currencyCode,
      currencyLocale: totals.currencyLocale,
    });
    const subscriptionHistory = input.subscriptions.map((s): TransactionAction =>
      replace(
        defined({
          partitionKey,
          rowKey: subscriptionHistoryRowKey(s.subscriptionId, takenAtMs, input.runId),
          kind: 'subscription',
          subscriptionId: s.subscriptionId,
          runId: input.runId,
          takenAt: input.takenAt.toISOString(),
          ...billing,
          totalCost: s.totalCost,
          usdTotalCost: s.usdTotalCost,
          currencyCode: s.currencyCode,
          currencyLocale: s.currencyLocale,
        }),
      ),
    );
    await writePartition(this.tables.customers, this.metrics, subscriptionHistory, [
      ...view.map(replace),
      replace(history),
    ]);
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

  /**
   * When run `runId` already committed this customer's view (an invocation that stopped before its
   * checkpoint), that commit's takenAt. A redo reuses it, so the history rows it writes have the
   * same RowKeys and replace the earlier ones instead of adding a second point for the run.
   */
  async committedAt(customerId: string, runId: string): Promise<Date | undefined> {
    try {
      this.metrics.roundTrips++;
      const row = await this.tables.customers.getEntity<Record<string, unknown>>(
        customerPartition(customerId),
        VIEW_ROW,
        { queryOptions: { select: ['runId', 'state', 'takenAt'] } },
      );
      return row.runId === runId && row.state === 'found' && typeof row.takenAt === 'string'
        ? new Date(row.takenAt)
        : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Records finished customers in the run's list partition (100 per transaction). */
  async recordCustomers(runId: string, entries: readonly CustomerListEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = entries.map((e) => replace(listRow(runId, e)));
    await writePartition(this.tables.customerLists, this.metrics, rows);
  }

  /**
   * What the run has finished so far, from its list partition (one single-partition query): the
   * customers done and exact totals over them.
   */
  async runProgress(runId: string): Promise<{ finished: TakenCustomers; totals: RunTotals }> {
    const finished = new Set<string>();
    const totals: RunTotals = {
      customersWritten: 0,
      customersFailed: 0,
      subscriptionsWritten: 0,
      subscriptionsFailed: 0,
      resourcesWritten: 0,
    };
    const rows = this.tables.customerLists.listEntities<Record<string, unknown>>({
      queryOptions: {
        filter: odata`PartitionKey eq ${runListPartition(runId)}`,
        select: ['RowKey', 'outcome', 'subscriptionsWritten', 'subscriptionsFailed', 'resourcesWritten'],
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
    const view = viewEntities(
      PARTNER_PARTITION,
      defined({
        runId,
        takenAt: takenAt.toISOString(),
        state: 'found',
        billingStartDate: summary.billingStartDate,
        billingEndDate: summary.billingEndDate,
      }),
      summary,
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
}

/**
 * The customers a run has taken, compared as the Table keys they are stored under (so ids that
 * differ only in case are one customer); the snapshot asks by id and never sees a key.
 */
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

function listRow(runId: string, entry: CustomerListEntry): EntityLike {
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
    subscriptionsWritten: entry.subscriptionsWritten,
    subscriptionsFailed: entry.subscriptionsFailed,
    resourcesWritten: entry.resourcesWritten,
    failureCode: entry.failure?.code,
    failureStatus: entry.failure?.status,
    failureMessage: entry.failure?.message.slice(0, 1000),
  });
}
