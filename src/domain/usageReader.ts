import type { CustomerTotals } from './customerTotals';
import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from './usage';
import type { SubscriptionDetail } from './azurePlan';
import type { RunRecord } from './runs';

export interface SnapshotInfo {
  /** Id of the run that wrote this view. */
  runId: string;
  /** When the data was read from Partner Center (ISO-8601). */
  takenAt: string;
  billingStartDate?: string;
  billingEndDate?: string;
}

export interface PartnerSummaryView {
  snapshot: SnapshotInfo;
  /** Partner Center's own summary, as sent (its totalCost leaves Azure plans out). */
  summary: PartnerUsageSummary;
  /** The app's totals over every customer's monthly record of the run; absent in views written before them. */
  customerTotals?: CustomerTotals;
}

export interface Page<T> {
  items: T[];
  /** Opaque to the API layer's callers; the API wraps it so it is bound to one query. */
  continuationToken?: string;
}

export interface CustomerListFilter {
  overBudget?: boolean;
  isUpgraded?: boolean;
  /** ISO currency code or locale, matched case-insensitively against currencyCode / currencyLocale. */
  currency?: string;
}

export interface CustomerView {
  snapshot: SnapshotInfo;
  /** Undefined when Partner Center reported no usage data for this customer. */
  summary?: CustomerUsageSummary;
  subscriptions: SubscriptionMonthlyUsageRecord[];
}

export interface SubscriptionResourcesView {
  snapshot: SnapshotInfo;
  subscription: SubscriptionMonthlyUsageRecord;
  /** False for Azure plans: this API has no resource breakdown for them (not an error). */
  hasResourceBreakdown: boolean;
  resources: AzureResourceMonthlyUsageRecord[];
  /** What the snapshot stored beyond the record (summary; an Azure plan's detail); absent in older views. */
  detail?: SubscriptionDetail;
}

export interface HistoryPoint {
  runId: string;
  takenAt: string;
  billingStartDate?: string;
  billingEndDate?: string;
  totalCost: string;
  usdTotalCost?: string;
  currencyCode?: string;
  currencyLocale?: string;
}

/** A resource group's cost at one snapshot, in one Azure subscription of the plan. */
export interface ResourceGroupHistoryPoint extends HistoryPoint {
  azureSubscriptionId?: string;
  resourceGroup?: string;
  resourceCount: number;
}

/** Customer or subscription lookups: unknown to the cache, known but not yet snapshotted, or found. */
export type Lookup<T> = { status: 'found'; value: T } | { status: 'unknown' } | { status: 'notSnapshotted' };

/**
 * A subscription's lookup: `unknown` is a subscription the customer never had, `customerUnknown`
 * a customer the cache has never seen, `notSnapshotted` a customer known but not snapshotted yet.
 */
export type SubscriptionLookup<T> = Lookup<T> | { status: 'customerUnknown' };

/**
 * The read side of the cache, as the HTTP API sees it. Each method is one point read or one
 * single-partition query (see docs/internals.md, "Reads"); none scans another
 * customer's rows. Implemented over Table Storage by the storage adapter; written by the snapshot.
 */
export interface UsageReader {
  getPartnerSummary(): Promise<PartnerSummaryView | undefined>;
  /** The latest complete customers list, filtered and paged. Undefined before the first snapshot. */
  listCustomers(query: {
    filter: CustomerListFilter;
    limit: number;
    continuationToken?: string;
  }): Promise<{ snapshot: SnapshotInfo; page: Page<CustomerMonthlyUsageRecord> } | undefined>;
  getCustomer(customerId: string): Promise<Lookup<CustomerView>>;
  getSubscriptionResources(
    customerId: string,
    subscriptionId: string,
  ): Promise<SubscriptionLookup<SubscriptionResourcesView>>;
  /** Newest first, within [from, to]. */
  customerHistory(
    customerId: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
  ): Promise<Lookup<Page<HistoryPoint>>>;
  subscriptionHistory(
    customerId: string,
    subscriptionId: string,
    query: { from?: Date; to?: Date; limit: number; continuationToken?: string },
  ): Promise<SubscriptionLookup<Page<HistoryPoint>>>;
  /**
   * A resource group's cost per snapshot (one point per Azure subscription holding a group of that
   * name, case-insensitively), newest first, within [from, to]; only `azureSubscriptionId`'s when given.
   * `unknown`: the plan never had such a group.
   */
  resourceGroupHistory(
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
  ): Promise<SubscriptionLookup<Page<ResourceGroupHistoryPoint>>>;
  /** Newest first. */
  listRuns(limit: number): Promise<RunRecord[]>;
}
