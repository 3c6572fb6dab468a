import { odata, type TableClient, type TableEntityResult } from '@azure/data-tables';
import type { CustomerMonthlyUsageRecord } from '../domain/usage';
import { InvalidContinuationTokenError } from './errors';
import {
  customerPartition,
  HISTORY_PREFIX,
  historyRange,
  PARTNER_PARTITION,
  resourceGroupHistoryPrefix,
  runListPartition,
  subscriptionHistoryPrefix,
  subscriptionPartRow,
  VIEW_ROW,
  type PartSlot,
} from './keys';
import type { TableMetrics } from './partitionWriter';
import { toRunRecord, type RunRecord, type RunStore } from '../domain/runs';
import type {
  CustomerViewBody,
  PartnerViewBody,
  SubscriptionViewBody,
  ViewState,
} from './tableSnapshotWriter';
import type {
  CustomerListFilter,
  CustomerView,
  PartnerSummaryView,
  HistoryPoint,
  Lookup,
  SubscriptionLookup,
  Page,
  ResourceGroupHistoryPoint,
  SnapshotInfo,
  SubscriptionResourcesView,
  UsageReader,
} from '../domain/usageReader';
import type { UsageTableName } from './usageTables';
import { queryView } from './viewDocument';

type Row = TableEntityResult<Record<string, unknown>>;
type Header = ViewState & {
  version?: string;
  billingStartDate?: string;
  billingEndDate?: string;
  hasResourceBreakdown?: boolean;
};

interface ListToken {
  /** The run whose list is being paged: later pages stay on it even after a newer run publishes. */
  r: string;
  t: string;
  b?: string;
  e?: string;
  c: string;
}

/**
 * The read side over Table Storage. Every method is one single-partition query (a view's rows,
 * a history range, a page of a run's customers list) or, for a continued customers page, exactly
 * that; none touches another customer's partition.
 */
export class TableUsageReader implements UsageReader {
  constructor(
    private readonly tables: Record<UsageTableName, TableClient>,
    private readonly runs: RunStore,
    private readonly metrics: TableMetrics,
    /** How long the current list run is remembered; see `currentListSnapshot`. 0 turns it off. */
    private readonly currentRunCacheMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  private current: { snapshot: SnapshotInfo; until: number } | undefined;

  /**
   * The run whose customers list is current. Remembered briefly so a first page costs one
   * single-partition query rather than a point read and a query: a remembered run always names a
   * complete list partition, so a reader never sees a mix, only a snapshot up to
   * `currentRunCacheMs` older than the newest (snapshots land hours apart).
   */
  private async currentListSnapshot(): Promise<SnapshotInfo | undefined> {
    if (this.current && this.now() < this.current.until) return this.current.snapshot;
    const partner = await this.getPartnerSummary();
    if (!partner) return undefined;
    this.current = { snapshot: partner.snapshot, until: this.now() + this.currentRunCacheMs };
    return partner.snapshot;
  }

  async getPartnerSummary(): Promise<PartnerSummaryView | undefined> {
    const view = await this.readView<PartnerViewBody>(this.tables.customers, PARTNER_PARTITION);
    if (!view || view.header.state !== 'found') return undefined;
    // Views written before the app's totals existed have none.
    const { customerTotals, ...summary } = view.body;
    return { snapshot: snapshotOf(view.header), summary, ...(customerTotals ? { customerTotals } : {}) };
  }

  async listCustomers(query: {
    filter: CustomerListFilter;
    limit: number;
    continuationToken?: string;
  }): Promise<{ snapshot: SnapshotInfo; page: Page<CustomerMonthlyUsageRecord> } | undefined> {
    let token = query.continuationToken ? decodeToken(query.continuationToken) : undefined;
    if (query.continuationToken && !token)
      throw new InvalidContinuationTokenError('The continuation token is not one this service issued');
    let snapshot: SnapshotInfo;
    if (token) {
      snapshot = { runId: token.r, takenAt: token.t, billingStartDate: token.b, billingEndDate: token.e };
    } else {
      const current = await this.currentListSnapshot();
      if (!current) return undefined;
      snapshot = current;
    }
    const clauses = [odata`PartitionKey eq ${runListPartition(snapshot.runId)}`];
    if (query.filter.overBudget !== undefined) clauses.push(odata`overBudget eq ${query.filter.overBudget}`);
    if (query.filter.isUpgraded !== undefined) clauses.push(odata`isUpgraded eq ${query.filter.isUpgraded}`);
    if (query.filter.currency !== undefined) {
      const currency = query.filter.currency.toUpperCase();
      clauses.push(odata`(currencyCodeKey eq ${currency} or currencyLocaleKey eq ${currency})`);
    }
    const limit = Math.min(Math.max(Math.floor(query.limit), 1), 1000);
    const items: CustomerMonthlyUsageRecord[] = [];
    let next: string | undefined = token?.c;
    // A filtered query may answer a page with no rows and a continuation; keep going until rows come.
    do {
      const pages = this.tables.customerLists
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: clauses.join(' and ') } })
        .byPage({ maxPageSize: limit, continuationToken: next });
      const result = await pages.next();
      this.metrics.roundTrips++;
      if (result.done) {
        next = undefined;
        break;
      }
      // A failed customer's row may have had to leave out a record too large to keep; not listed.
      for (const row of result.value) if (row.totalCost !== undefined) items.push(listRecord(row));
      next = result.value.continuationToken;
    } while (items.length === 0 && next);
    token = next
      ? {
          r: snapshot.runId,
          t: snapshot.takenAt,
          b: snapshot.billingStartDate,
          e: snapshot.billingEndDate,
          c: next,
        }
      : undefined;
    return { snapshot, page: { items, continuationToken: token ? encodeToken(token) : undefined } };
  }

  async getCustomer(customerId: string): Promise<Lookup<CustomerView>> {
    const view = await this.readView<CustomerViewBody>(this.tables.customers, customerPartition(customerId));
    if (!view) return { status: 'unknown' };
    if (view.header.state !== 'found') return { status: 'notSnapshotted' };
    return {
      status: 'found',
      value: {
        snapshot: snapshotOf(view.header),
        summary: view.body.summary,
        subscriptions: view.body.subscriptions,
      },
    };
  }

  /**
   * A point read of the customer's view header names the slot (and version) its committed parts
   * are in; one single-partition query then reads that subscription's view from the slot. A part
   * of another version is not part of what the customer shows: the subscription is unknown.
   */
  async getSubscriptionResources(
    customerId: string,
    subscriptionId: string,
  ): Promise<SubscriptionLookup<SubscriptionResourcesView>> {
    const committed = await this.customerHeader(customerId);
    if (committed === undefined) return { status: 'customerUnknown' };
    if (committed.state === 'notSnapshotted') return { status: 'notSnapshotted' };
    if (committed.slot === undefined) return { status: 'unknown' };
    const view = await this.readView<SubscriptionViewBody>(
      this.tables.customers,
      customerPartition(customerId),
      subscriptionPartRow(subscriptionId, committed.slot),
    );
    if (!view || view.header.state !== 'found' || view.header.version !== committed.version)
      return { status: 'unknown' };
    return {
      status: 'found',
      value: {
        snapshot: snapshotOf(view.header),
        subscription: view.body.subscription,
        hasResourceBreakdown: view.header.hasResourceBreakdown === true,
        resources: view.body.resources,
        ...(view.body.detail ? { detail: view.body.detail } : {}),
      },
    };
  }

  async customerHistory(
    customerId: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
  ): Promise<Lookup<Page<HistoryPoint>>> {
    const lookup = await this.history(customerId, HISTORY_PREFIX, query);
    return lookup.status === 'customerUnknown' ? { status: 'unknown' } : lookup;
  }

  subscriptionHistory(
    customerId: string,
    subscriptionId: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
  ): Promise<SubscriptionLookup<Page<HistoryPoint>>> {
    return this.history(customerId, subscriptionHistoryPrefix(subscriptionId), query);
  }

  async resourceGroupHistory(
    customerId: string,
    subscriptionId: string,
    resourceGroup: string,
    query: {
      from?: Date;
      to?: Date;
      limit: number;
      continuationToken?: string;
      azureSubscriptionId?: string;
    },
  ): Promise<SubscriptionLookup<Page<ResourceGroupHistoryPoint>>> {
    const lookup = await this.history(
      customerId,
      resourceGroupHistoryPrefix(subscriptionId, resourceGroup),
      query,
      query.azureSubscriptionId,
    );
    if (lookup.status !== 'found') return lookup;
    return {
      status: 'found',
      value: { ...lookup.value, items: lookup.value.items as ResourceGroupHistoryPoint[] },
    };
  }

  async listRuns(limit: number): Promise<RunRecord[]> {
    return (await this.runs.listRuns(limit)).map(toRunRecord);
  }

  private async history(
    customerId: string,
    prefix: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
    /** Resource-group history only: the points of this Azure subscription alone (a property filter). */
    azureSubscriptionId?: string,
  ): Promise<SubscriptionLookup<Page<HistoryPoint>>> {
    if (query.continuationToken !== undefined && !isTableToken(query.continuationToken))
      throw new InvalidContinuationTokenError('The continuation token is not one this service issued');
    const partitionKey = customerPartition(customerId);
    const range = historyRange(prefix, query.from, query.to);
    const limit = Math.min(Math.max(Math.floor(query.limit), 1), 1000);
    let filter = odata`PartitionKey eq ${partitionKey} and RowKey ge ${range.ge} and RowKey le ${range.le}`;
    if (azureSubscriptionId !== undefined)
      filter += odata` and azureSubscriptionId eq ${azureSubscriptionId}`;
    const pages = this.tables.customers
      .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
      .byPage({ maxPageSize: limit, continuationToken: query.continuationToken });
    const result = await pages.next();
    this.metrics.roundTrips++;
    const items = result.done ? [] : result.value.map(historyPoint);
    const continuationToken = result.done ? undefined : result.value.continuationToken;
    if (items.length === 0 && !query.continuationToken) {
      const state = await this.customerState(customerId);
      if (state === undefined) return { status: 'customerUnknown' };
      if (state === 'notSnapshotted') return { status: 'notSnapshotted' };
      // A subscription's history: an empty range of a subscription the customer never had is an
      // unknown subscription, not an empty history. Only on this path, one more query.
      if (prefix !== HISTORY_PREFIX && !(await this.hasAnyHistory(partitionKey, prefix))) {
        return { status: 'unknown' };
      }
    }
    return { status: 'found', value: { items, continuationToken } };
  }

  private async hasAnyHistory(partitionKey: string, prefix: string): Promise<boolean> {
    const range = historyRange(prefix, undefined, undefined);
    const pages = this.tables.customers
      .listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partitionKey} and RowKey ge ${range.ge} and RowKey le ${range.le}`,
          select: ['RowKey'],
        },
      })
      .byPage({ maxPageSize: 1 });
    const result = await pages.next();
    this.metrics.roundTrips++;
    return !result.done && result.value.length > 0;
  }

  private async customerState(customerId: string): Promise<ViewState['state'] | undefined> {
    return (await this.customerHeader(customerId))?.state;
  }

  /** The customer's view header alone (one point read): its state and the slot of its committed parts. */
  private async customerHeader(
    customerId: string,
  ): Promise<{ state: ViewState['state']; slot?: PartSlot; version?: string } | undefined> {
    try {
      this.metrics.roundTrips++;
      const row = await this.tables.customers.getEntity<Record<string, unknown>>(
        customerPartition(customerId),
        VIEW_ROW,
        { queryOptions: { select: ['state', 'slot', 'version'] } },
      );
      return {
        state: row.state as ViewState['state'],
        slot: row.slot === 'a' || row.slot === 'b' ? row.slot : undefined,
        version: typeof row.version === 'string' ? row.version : undefined,
      };
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  /** A view's rows (header and parts): one single-partition query over its RowKey range. */
  private async readView<B>(
    table: TableClient,
    partitionKey: string,
    rowKey = VIEW_ROW,
  ): Promise<{ header: Header; body: B } | undefined> {
    return queryView<Header, B>(table, this.metrics, partitionKey, rowKey);
  }
}

function snapshotOf(header: Header): SnapshotInfo {
  return {
    runId: header.runId,
    takenAt: header.takenAt,
    billingStartDate: header.billingStartDate,
    billingEndDate: header.billingEndDate,
  };
}

function opt(row: Row, name: string): string | undefined {
  const value = row[name];
  return value === undefined || value === null ? undefined : String(value);
}

function listRecord(row: Row): CustomerMonthlyUsageRecord {
  return stripUndefined({
    customerId: String(row.customerId),
    name: opt(row, 'name'),
    budget: opt(row, 'budget'),
    customerSpendingBudget: opt(row, 'customerSpendingBudget'),
    percentUsed: opt(row, 'percentUsed'),
    isUpgraded: row.isUpgraded === true,
    totalCost: String(row.totalCost),
    usdTotalCost: opt(row, 'usdTotalCost'),
    currencyCode: opt(row, 'currencyCode'),
    currencyLocale: opt(row, 'currencyLocale'),
    lastModifiedDate: opt(row, 'lastModifiedDate'),
  });
}

function historyPoint(row: Row): HistoryPoint {
  return stripUndefined({
    ...(row.kind === 'resourceGroup'
      ? {
          azureSubscriptionId: opt(row, 'azureSubscriptionId'),
          resourceGroup: opt(row, 'resourceGroup'),
          resourceCount: Number(row.resourceCount ?? 0),
        }
      : {}),
    runId: String(row.runId),
    takenAt: String(row.takenAt),
    billingStartDate: opt(row, 'billingStartDate'),
    billingEndDate: opt(row, 'billingEndDate'),
    totalCost: String(row.totalCost),
    usdTotalCost: opt(row, 'usdTotalCost'),
    currencyCode: opt(row, 'currencyCode'),
    currencyLocale: opt(row, 'currencyLocale'),
  });
}

function stripUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}

function encodeToken(token: ListToken): string {
  return Buffer.from(JSON.stringify(token), 'utf8').toString('base64url');
}

function decodeToken(raw: string): ListToken | undefined {
  try {
    const token = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<ListToken>;
    if (
      typeof token.r === 'string' &&
      typeof token.t === 'string' &&
      typeof token.c === 'string' &&
      isTableToken(token.c)
    )
      return token as ListToken;
  } catch {
    // fall through: a token this adapter did not issue
  }
  return undefined;
}

/** The SDK's own token (base64 JSON naming the next partition and row); it throws on anything else. */
export function isTableToken(raw: string): boolean {
  try {
    const token = JSON.parse(Buffer.from(raw, 'base64').toString('latin1')) as Record<string, unknown> | null;
    return (
      typeof token?.nextPartitionKey === 'string' &&
      (token.nextRowKey === undefined || typeof token.nextRowKey === 'string')
    );
  } catch {
    return false;
  }
}
