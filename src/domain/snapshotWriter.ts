import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from './usage';
import type { SubscriptionDetail } from './azurePlan';

/** The billing period a view belongs to, from the customer's (or partner's) usage summary. */
export interface BillingPeriod {
  billingStartDate?: string;
  billingEndDate?: string;
}

export interface SubscriptionSnapshot extends BillingPeriod {
  runId: string;
  customerId: string;
  takenAt: Date;
  subscription: SubscriptionMonthlyUsageRecord;
  hasResourceBreakdown: boolean;
  resources: AzureResourceMonthlyUsageRecord[];
  /**
   * The subscription's summary and, for an Azure plan, its meters, resources and Azure
   * subscriptions; committed with the customer like the rest. Undefined: not read this run.
   */
  detail?: SubscriptionDetail;
}

export interface CustomerSnapshot {
  runId: string;
  customerId: string;
  takenAt: Date;
  /** Undefined when Partner Center has no usage data for the customer. */
  summary?: CustomerUsageSummary;
  /** The customer's monthly usage record from the customers list; history falls back on its totals. */
  record: CustomerMonthlyUsageRecord;
  subscriptions: SubscriptionMonthlyUsageRecord[];
  /** The billing period start of the run's partner summary: the period this detail was read in. */
  periodStart?: string;
}

/** One customer's row in a run's customers list; it doubles as the run's checkpoint for it. */
export interface CustomerListEntry {
  record: CustomerMonthlyUsageRecord;
  takenAt: Date;
  outcome: 'written' | 'failed';
  /** Written by carrying the customer's committed view over (its monthly record had not moved). */
  carriedOver?: boolean;
  subscriptionsWritten: number;
  resourcesWritten: number;
  subscriptionsFailed: number;
  failure?: { code: string; status?: number; message: string };
}

export interface RunTotals {
  /** Customers the run serves a view of: fetched from Partner Center or carried over. */
  customersWritten: number;
  /** Written customers whose detail was fetched from Partner Center. */
  customersFetched: number;
  /** Written customers whose committed view was carried over (their monthly record had not moved). */
  customersCarriedOver: number;
  customersFailed: number;
  subscriptionsWritten: number;
  subscriptionsFailed: number;
  resourcesWritten: number;
}

/**
 * The customers a run has taken so far (checkpointed, or started by this invocation). Ids are
 * compared as the store keys them, so ids that differ only in case are one customer.
 */
export interface TakenCustomers extends Iterable<string> {
  /** `taken` when the run has it already, `invalidId` when the store cannot key the id. */
  status(customerId: string): 'new' | 'taken' | 'invalidId';
  take(customerId: string): void;
  readonly size: number;
}

/** What a customer's committed view says about the snapshot it holds (see `beginCustomer`). */
export interface CommittedCustomer {
  /** When its detail (summary, subscriptions, parts) was last read from Partner Center. */
  takenAt: Date;
  /** The billing period that detail was read in (the run's, else the customer summary's), if known. */
  periodStart?: string;
  /** The monthly record given to `beginCustomer` is the one that snapshot was taken with. */
  sameRecord: boolean;
}

/** A customer carried over by run `runId` at `takenAt`, listed with `record`. */
export type CarryOverInput = Pick<CustomerSnapshot, 'runId' | 'customerId' | 'takenAt' | 'record'>;

/**
 * What the snapshot writes through. Per customer: `beginCustomer`, its parts (subscription views),
 * then `commitCustomer`, which makes all of them visible at once; its list row (the checkpoint)
 * after; the partner view last, when the run ends. A customer whose data the store cannot hold
 * fails with EntityTooLarge before anything of it becomes visible.
 */
export interface SnapshotWriter {
  /**
   * Starts a customer's write: EntityTooLarge when its list row could not be stored; otherwise when
   * run `runId` already committed (or carried over) this customer (an invocation cut off before
   * its checkpoint), and what its committed view holds, if it has one.
   */
  beginCustomer(input: {
    runId: string;
    customerId: string;
    record: CustomerMonthlyUsageRecord;
  }): Promise<{ committedAt?: Date; committed?: CommittedCustomer }>;
  /** Writes one subscription's resources view, invisible until the customer's commit. */
  writeSubscription(input: SubscriptionSnapshot): Promise<void>;
  /** Makes the customer's view and every part written since `beginCustomer` visible at once, with its history points. */
  commitCustomer(input: CustomerSnapshot): Promise<void>;
  /**
   * Instead of parts and a commit: keeps the customer's committed view (and every part it names) as
   * this run's, adding the run's history points from it, in one transaction conditional on the view
   * read by `beginCustomer`; the history falls back on `record`'s totals as a commit's does.
   * Returns how many subscriptions the carried view holds; undefined (nothing written) when the
   * committed view cannot be read whole, so the caller reads the customer instead.
   */
  carryOverCustomer(input: CarryOverInput): Promise<{ subscriptions: number } | undefined>;
  /** Forgets an unfinished customer write (failed or cancelled); nothing of it becomes visible. */
  discardCustomer(customerId: string, runId: string): void;
  /** Gives a customer that failed a `notSnapshotted` view, unless it has a view already. */
  markCustomerKnown(customerId: string, runId: string, takenAt: Date): Promise<void>;
  /** Resolves when the store answers at all: tells a store that is down from one that refused some data. */
  probe(): Promise<void>;
  /** Records finished customers in the run's customers list (its checkpoint). */
  recordCustomers(runId: string, entries: readonly CustomerListEntry[]): Promise<void>;
  /** What the run has finished so far: the customers and exact totals over them. */
  runProgress(runId: string): Promise<{ finished: TakenCustomers; totals: RunTotals }>;
  /** Replaces the partner view with this run's summary: the run's list becomes the one served. */
  publishPartner(runId: string, takenAt: Date, summary: PartnerUsageSummary): Promise<void>;
}

/** Deletes what an expired run left behind: its history points and its customers list. */
export interface RetentionStore {
  /** Deletes run `runId`'s history rows and list rows; returns how many rows went. */
  deleteRunData(runId: string): Promise<{ historyRows: number; listRows: number }>;
}

/** Adds one list row (or entry) to run totals. */
export function addEntry(totals: RunTotals, row: Record<string, unknown>): void {
  if (row.outcome === 'failed') totals.customersFailed++;
  else {
    totals.customersWritten++;
    if (row.carriedOver === true) totals.customersCarriedOver++;
    else totals.customersFetched++;
  }
  totals.subscriptionsWritten += Number(row.subscriptionsWritten ?? 0);
  totals.subscriptionsFailed += Number(row.subscriptionsFailed ?? 0);
  totals.resourcesWritten += Number(row.resourcesWritten ?? 0);
}
