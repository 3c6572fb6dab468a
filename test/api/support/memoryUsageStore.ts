import { sumCustomerTotals } from '../../../src/domain/customerTotals';
import type {
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
  AzureResourceMonthlyUsageRecord,
} from '../../../src/domain/usage';
import { resourceGroupCosts, type SubscriptionDetail } from '../../../src/domain/azurePlan';
import { AppError } from '../../../src/domain/errors';
import type {
  CustomerListFilter,
  HistoryPoint,
  Lookup,
  SubscriptionLookup,
  Page,
  ResourceGroupHistoryPoint,
  SnapshotInfo,
  UsageReader,
} from '../../../src/domain/usageReader';
import type { RunRecord, RunRequester } from '../../../src/domain/runs';

/**
 * IN-MEMORY STAND-IN for the Table Storage usage store, for API tests only. It follows the
 * UsageReader contract (opaque continuation tokens, newest-first history, Lookup statuses, the
 * RunAlreadyActive error) but is no evidence about the real adapter; tests that need that drive
 * the real store against Azurite. It counts reads so tests can check one read per request.
 */
export class RunAlreadyActiveError extends AppError {
  readonly code = 'RunAlreadyActive';
}

export interface MemoryCustomer {
  record: CustomerMonthlyUsageRecord;
  summary?: CustomerUsageSummary;
  subscriptions: Array<{
    record: SubscriptionMonthlyUsageRecord;
    resources: AzureResourceMonthlyUsageRecord[];
    history: HistoryPoint[];
    /** What the snapshot stored beyond the record (an Azure plan's detail). */
    detail?: SubscriptionDetail;
  }>;
  history: HistoryPoint[];
  /** Known (listed) but no snapshot has covered it yet. */
  notSnapshotted?: boolean;
}

export interface MemoryState {
  snapshot?: SnapshotInfo;
  partner?: PartnerUsageSummary;
  customers: MemoryCustomer[];
  runs: RunRecord[];
}

export class MemoryUsageStore implements UsageReader, RunRequester {
  readonly reads: string[] = [];
  constructor(public state: MemoryState) {}

  async getPartnerSummary() {
    this.reads.push('getPartnerSummary');
    const { snapshot, partner } = this.state;
    // As the Table adapter does when it publishes a run: every listed customer's record, summed.
    const customerTotals = sumCustomerTotals(this.state.customers.map((c) => c.record));
    return snapshot && partner ? { snapshot, summary: partner, customerTotals } : undefined;
  }

  async listCustomers(query: { filter: CustomerListFilter; limit: number; continuationToken?: string }) {
    this.reads.push('listCustomers');
    const { snapshot } = this.state;
    if (!snapshot) return undefined;
    // As in Table Storage, the list holds every customer Partner Center listed, snapshotted or not.
    const matching = this.state.customers
      .map((c) => c.record)
      .filter((r) => matches(r, query.filter))
      .sort((a, b) => a.customerId.localeCompare(b.customerId));
    return { snapshot, page: page(matching, query.limit, query.continuationToken) };
  }

  async getCustomer(customerId: string) {
    this.reads.push('getCustomer');
    return this.lookupCustomer(customerId, (c) => {
      const snapshot = this.state.snapshot as SnapshotInfo;
      return { snapshot, summary: c.summary, subscriptions: c.subscriptions.map((s) => s.record) };
    });
  }

  async getSubscriptionResources(customerId: string, subscriptionId: string) {
    this.reads.push('getSubscriptionResources');
    return this.lookupSubscription(customerId, subscriptionId, (s) => ({
      snapshot: this.state.snapshot as SnapshotInfo,
      subscription: s.record,
      hasResourceBreakdown: s.record.offerId.toUpperCase() === 'MS-AZR-0145P',
      resources: s.resources,
      ...(s.detail ? { detail: s.detail } : {}),
    }));
  }

  async customerHistory(
    customerId: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
  ) {
    this.reads.push('customerHistory');
    return this.lookupCustomer(customerId, (c) => historyPage(c.history, query));
  }

  async subscriptionHistory(
    customerId: string,
    subscriptionId: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
  ) {
    this.reads.push('subscriptionHistory');
    return this.lookupSubscription(customerId, subscriptionId, (s) => historyPage(s.history, query));
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
    this.reads.push('resourceGroupHistory');
    const lookup = this.lookupSubscription(customerId, subscriptionId, (s) =>
      this.resourceGroupPoints(s).filter(
        (p) => p.resourceGroup?.toLowerCase() === resourceGroup.toLowerCase(),
      ),
    );
    if (lookup.status !== 'found') return lookup;
    // As in Table Storage: a group the plan never had is unknown, not an empty history.
    if (lookup.value.length === 0) return { status: 'unknown' };
    const points = lookup.value.filter(
      (p) => query.azureSubscriptionId === undefined || p.azureSubscriptionId === query.azureSubscriptionId,
    );
    return { status: 'found', value: historyPage(points, query) };
  }

  async listRuns(limit: number) {
    this.reads.push('listRuns');
    return [...this.state.runs].sort((a, b) => b.requestedAt.localeCompare(a.requestedAt)).slice(0, limit);
  }

  async requestRun(trigger: RunRecord['trigger']): Promise<RunRecord> {
    if (this.state.runs.some((r) => r.state === 'queued' || r.state === 'running')) {
      throw new RunAlreadyActiveError('A run is already active');
    }
    const now = new Date();
    const run: RunRecord = {
      runId: `${now.toISOString().replace(/[-:.]/g, '')}-${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}`,
      state: 'queued',
      trigger,
      correlationId: 'corr-' + this.state.runs.length,
      requestedAt: now.toISOString(),
      counts: { customersWritten: 0, customersFailed: 0, subscriptionsWritten: 0, resourcesWritten: 0 },
    };
    this.state.runs.push(run);
    return run;
  }

  /** As the snapshot writes them: one point per group of the stored detail, at the snapshot. */
  private resourceGroupPoints(s: MemoryCustomer['subscriptions'][number]): ResourceGroupHistoryPoint[] {
    const snapshot = this.state.snapshot as SnapshotInfo;
    return resourceGroupCosts(s.detail?.resources ?? [])
      .filter((g) => g.resourceGroup !== undefined)
      .map((g) => ({
        runId: snapshot.runId,
        takenAt: snapshot.takenAt,
        billingStartDate: snapshot.billingStartDate,
        billingEndDate: snapshot.billingEndDate,
        azureSubscriptionId: g.azureSubscriptionId,
        resourceGroup: g.resourceGroup,
        resourceCount: g.resourceCount,
        totalCost: g.totalCost,
        usdTotalCost: g.usdTotalCost,
        currencyCode: g.currencyCode,
        currencyLocale: g.currencyLocale,
      }));
  }

  private lookupCustomer<T>(customerId: string, found: (c: MemoryCustomer) => T): Lookup<T> {
    const customer = this.state.customers.find((c) => c.record.customerId === customerId);
    if (!customer) return { status: 'unknown' };
    if (customer.notSnapshotted) return { status: 'notSnapshotted' };
    return { status: 'found', value: found(customer) };
  }

  private lookupSubscription<T>(
    customerId: string,
    subscriptionId: string,
    found: (s: MemoryCustomer['subscriptions'][number]) => T,
  ): SubscriptionLookup<T> {
    const customer = this.state.customers.find((c) => c.record.customerId === customerId);
    if (!customer) return { status: 'customerUnknown' };
    const subscription = customer.subscriptions.find((s) => s.record.subscriptionId === subscriptionId);
    if (!subscription) return { status: 'unknown' };
    if (customer.notSnapshotted) return { status: 'notSnapshotted' };
    return { status: 'found', value: found(subscription) };
  }
}

function matches(record: CustomerMonthlyUsageRecord, filter: CustomerListFilter): boolean {
  if (filter.isUpgraded !== undefined && record.isUpgraded !== filter.isUpgraded) return false;
  if (filter.overBudget !== undefined) {
    const over = record.budget !== undefined && Number(record.totalCost) > Number(record.budget);
    if (over !== filter.overBudget) return false;
  }
  if (filter.currency !== undefined) {
    const wanted = filter.currency.toLowerCase();
    if (record.currencyCode?.toLowerCase() !== wanted && record.currencyLocale?.toLowerCase() !== wanted)
      return false;
  }
  return true;
}

function page<T>(items: T[], limit: number, token?: string): Page<T> {
  const offset = token === undefined ? 0 : Number(JSON.parse(Buffer.from(token, 'base64').toString()).o);
  const slice = items.slice(offset, offset + limit);
  const next = offset + limit < items.length ? offset + limit : undefined;
  return {
    items: slice,
    continuationToken:
      next === undefined ? undefined : Buffer.from(JSON.stringify({ o: next })).toString('base64'),
  };
}

function historyPage<P extends HistoryPoint>(
  points: P[],
  query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
): Page<P> {
  const inRange = points
    .filter((p) => (query.from ? Date.parse(p.takenAt) >= query.from.getTime() : true))
    .filter((p) => (query.to ? Date.parse(p.takenAt) <= query.to.getTime() : true))
    .sort((a, b) => b.takenAt.localeCompare(a.takenAt));
  return page(inRange, query.limit, query.continuationToken);
}
