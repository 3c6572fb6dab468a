import {
  hasResourceBreakdown,
  type AzureResourceMonthlyUsageRecord,
  type CustomerMonthlyUsageRecord,
  type CustomerUsageSummary,
  type SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import type { SubscriptionDetail } from '../domain/azurePlan';
import type {
  AzurePlanUsageClient,
  CallOptions,
  PartnerCenterClient,
} from '../partnerCenter/partnerCenterClient';
import type { CommittedCustomer, SnapshotWriter } from '../domain/snapshotWriter';

/**
 * When a customer's detail may be carried over instead of read again (incremental runs); absent:
 * a full run, every customer is read.
 */
export interface CarryOverPolicy {
  /** Detail older than this is read again, moved or not. */
  refreshMs: number;
  /** The billing period the run's partner summary is in: detail of an earlier one is read again. */
  billingStartDate?: string;
}

/** The Partner Center calls a snapshot makes: the usage calls and, per subscription, its detail. */
export type SnapshotPartnerCenter = PartnerCenterClient &
  Pick<
    AzurePlanUsageClient,
    | 'getSubscriptionUsageSummary'
    | 'listMeterUsageRecords'
    | 'listPlanResourceUsageRecords'
    | 'listAzureEntitlements'
  >;

/**
 * How many of a customer's subscriptions have their detail read at once. Each Azure plan costs
 * four requests, so a customer with many plans would otherwise hold its slot of the walk's
 * concurrency for a long sequential tail; the client's limiter still paces the total.
 */
const DETAIL_CONCURRENCY = 8;

export interface CustomerProgress {
  /** Subscriptions discovered so far (counted as failed when the customer fails). */
  subscriptionsSeen: number;
  subscriptionsWritten: number;
  resourcesWritten: number;
}

/**
 * Whether a customer's committed snapshot still holds: its monthly record has not moved since,
 * it is younger than the policy's refresh age, and it belongs to the run's billing period.
 */
export function canCarryOver(
  committed: CommittedCustomer | undefined,
  policy: CarryOverPolicy | undefined,
  now: Date,
): boolean {
  if (!policy || !committed?.sameRecord) return false;
  if (now.getTime() - committed.takenAt.getTime() >= policy.refreshMs) return false;
  const periodStart = Date.parse(policy.billingStartDate ?? '');
  if (Number.isNaN(periodStart)) return true;
  // A rollover: the detail was read before the period began, or names another period.
  if (committed.takenAt.getTime() < periodStart) return false;
  const detailStart = Date.parse(committed.periodStart ?? '');
  return Number.isNaN(detailStart) || detailStart === periodStart;
}

/**
 * Snapshots one customer: its usage summary, its subscriptions' usage records and, per
 * subscription, its own summary plus its resources (legacy Microsoft Azure) or its meters,
 * resources and Azure subscriptions (Azure plan). Each subscription's resources view is handed to
 * the writer as soon as it is read (memory holds about one transaction's worth), invisible to
 * readers; the customer's commit makes all of them visible at once, so readers never see part of
 * this snapshot. A failure anywhere leaves every view of the customer as it was. Under a carry-over
 * policy, a customer whose committed snapshot still holds (`canCarryOver`) costs no Partner Center
 * request: the snapshot is kept as this run's, with the run's history points.
 */
export async function snapshotCustomer(
  deps: {
    partnerCenter: SnapshotPartnerCenter;
    writer: Pick<
      SnapshotWriter,
      'beginCustomer' | 'writeSubscription' | 'commitCustomer' | 'carryOverCustomer' | 'discardCustomer'
    >;
    now: () => Date;
  },
  input: {
    runId: string;
    record: CustomerMonthlyUsageRecord;
    call: CallOptions;
    carryOver?: CarryOverPolicy;
    /** The billing period start of the run's partner summary, kept with the customer's view. */
    periodStart?: string;
  },
  progress: CustomerProgress,
): Promise<{ takenAt: Date; carriedOver: boolean }> {
  const { writer } = deps;
  const customerId = input.record.customerId;
  const begun = await writer.beginCustomer({ runId: input.runId, customerId, record: input.record });
  try {
    // A customer this run committed before (an invocation cut off before its checkpoint) is redone
    // at that commit's time, so its history points are replaced, not added twice.
    const takenAt = begun.committedAt ?? deps.now();
    if (canCarryOver(begun.committed, input.carryOver, deps.now())) {
      const carried = await writer.carryOverCustomer({
        runId: input.runId,
        customerId,
        takenAt,
        record: input.record,
      });
      if (carried) {
        progress.subscriptionsSeen = carried.subscriptions;
        return { takenAt, carriedOver: true };
      }
    }
    const summary = await deps.partnerCenter.getCustomerUsageSummary(customerId, input.call);
    return { ...(await snapshotParts(deps, { ...input, summary }, progress, takenAt)), carriedOver: false };
  } finally {
    writer.discardCustomer(customerId, input.runId);
  }
}

async function snapshotParts(
  deps: Parameters<typeof snapshotCustomer>[0],
  input: Parameters<typeof snapshotCustomer>[1] & { summary: CustomerUsageSummary | undefined },
  progress: CustomerProgress,
  takenAt: Date,
): Promise<{ takenAt: Date }> {
  const { partnerCenter, writer } = deps;
  const { summary } = input;
  const customerId = input.record.customerId;
  const subscriptions: SubscriptionMonthlyUsageRecord[] = [];
  for await (const subscription of partnerCenter.listSubscriptionUsageRecords(customerId, input.call)) {
    subscriptions.push(subscription);
    progress.subscriptionsSeen++;
  }
  let resourcesWritten = 0;
  // Read DETAIL_CONCURRENCY subscriptions at once, then write them in order: the writer's batch
  // takes one subscription at a time, and memory holds at most one group's detail.
  for (let at = 0; at < subscriptions.length; at += DETAIL_CONCURRENCY) {
    const group = subscriptions.slice(at, at + DETAIL_CONCURRENCY);
    const read = await Promise.all(
      group.map((subscription) => readSubscription(partnerCenter, customerId, subscription, input.call)),
    );
    for (const [i, subscription] of group.entries()) {
      const { resources, detail } = read[i];
      await writer.writeSubscription({
        runId: input.runId,
        customerId,
        takenAt,
        subscription,
        hasResourceBreakdown: hasResourceBreakdown(subscription),
        resources,
        detail,
        billingStartDate: summary?.billingStartDate,
        billingEndDate: summary?.billingEndDate,
      });
      resourcesWritten += resources.length + detail.resources.length;
    }
  }
  await writer.commitCustomer({
    runId: input.runId,
    customerId,
    takenAt,
    summary,
    record: input.record,
    subscriptions,
    periodStart: input.periodStart,
  });
  progress.subscriptionsWritten = subscriptions.length;
  progress.resourcesWritten = resourcesWritten;
  return { takenAt };
}

/**
 * One subscription's reads: its usage summary, and its resources (legacy: 1 request + pages) or
 * its meters, resources and Azure subscriptions (Azure plan: 3 requests + pages), all at once.
 */
async function readSubscription(
  partnerCenter: SnapshotPartnerCenter,
  customerId: string,
  subscription: SubscriptionMonthlyUsageRecord,
  call: CallOptions,
): Promise<{ resources: AzureResourceMonthlyUsageRecord[]; detail: SubscriptionDetail }> {
  const id = subscription.subscriptionId;
  const summary = partnerCenter.getSubscriptionUsageSummary(customerId, id, call);
  if (hasResourceBreakdown(subscription)) {
    const [resources, legacySummary] = await Promise.all([
      collect(partnerCenter.listResourceUsageRecords(customerId, id, call)),
      summary,
    ]);
    return {
      resources,
      detail: { summary: legacySummary, meters: [], resources: [], azureSubscriptions: [] },
    };
  }
  const [planSummary, meters, resources, azureSubscriptions] = await Promise.all([
    summary,
    collect(partnerCenter.listMeterUsageRecords(customerId, id, call)),
    collect(partnerCenter.listPlanResourceUsageRecords(customerId, id, call)),
    collect(partnerCenter.listAzureEntitlements(customerId, id, call)),
  ]);
  return { resources: [], detail: { summary: planSummary, meters, resources, azureSubscriptions } };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
