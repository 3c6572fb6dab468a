import {
  hasResourceBreakdown,
  type CustomerMonthlyUsageRecord,
  type CustomerUsageSummary,
  type SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import type { CallOptions, PartnerCenterClient } from '../partnerCenter/partnerCenterClient';
import type { SnapshotWriter } from '../domain/snapshotWriter';

export interface CustomerProgress {
  /** Subscriptions discovered so far (counted as failed when the customer fails). */
  subscriptionsSeen: number;
  subscriptionsWritten: number;
  resourcesWritten: number;
}

/**
 * Snapshots one customer: its usage summary, its subscriptions' usage records and, per legacy
 * Microsoft Azure subscription, its resources. Each subscription's resources view is handed to
 * the writer as soon as it is read (memory holds about one transaction's worth), invisible to
 * readers; the customer's commit makes all of them visible at once, so readers never see part of
 * this snapshot. A failure anywhere leaves every view of the customer as it was.
 */
export async function snapshotCustomer(
  deps: {
    partnerCenter: PartnerCenterClient;
    writer: Pick<
      SnapshotWriter,
      'beginCustomer' | 'writeSubscription' | 'commitCustomer' | 'discardCustomer'
    >;
    now: () => Date;
  },
  input: { runId: string; record: CustomerMonthlyUsageRecord; call: CallOptions },
  progress: CustomerProgress,
): Promise<{ takenAt: Date }> {
  const { writer } = deps;
  const customerId = input.record.customerId;
  const summary = await deps.partnerCenter.getCustomerUsageSummary(customerId, input.call);
  const begun = await writer.beginCustomer({ runId: input.runId, customerId, record: input.record });
  try {
    // A customer this run committed before (an invocation cut off before its checkpoint) is redone
    // at that commit's time, so its history points are replaced, not added twice.
    return await snapshotParts(deps, { ...input, summary }, progress, begun.committedAt ?? deps.now());
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
  for (const subscription of subscriptions) {
    const breakdown = hasResourceBreakdown(subscription);
    const resources = [];
    if (breakdown) {
      for await (const resource of partnerCenter.listResourceUsageRecords(
        customerId,
        subscription.subscriptionId,
        input.call,
      ))
        resources.push(resource);
    }
    await writer.writeSubscription({
      runId: input.runId,
      customerId,
      takenAt,
      subscription,
      hasResourceBreakdown: breakdown,
      resources,
      billingStartDate: summary?.billingStartDate,
      billingEndDate: summary?.billingEndDate,
    });
    resourcesWritten += resources.length;
  }
  await writer.commitCustomer({
    runId: input.runId,
    customerId,
    takenAt,
    summary,
    record: input.record,
    subscriptions,
  });
  progress.subscriptionsWritten = subscriptions.length;
  progress.resourcesWritten = resourcesWritten;
  return { takenAt };
}
