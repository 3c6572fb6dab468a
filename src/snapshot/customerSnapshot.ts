import {
  hasResourceBreakdown,
  type CustomerMonthlyUsageRecord,
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
 * Microsoft Azure subscription, its resources. Each subscription's resources view is written
 * as soon as it is read (memory holds one subscription's resources at a time); the customer's
 * view flips last, in one transaction, so readers never see part of this snapshot.
 */
export async function snapshotCustomer(
  deps: {
    partnerCenter: PartnerCenterClient;
    writer: Pick<SnapshotWriter, 'writeSubscription' | 'commitCustomer'>;
    now: () => Date;
  },
  input: { runId: string; record: CustomerMonthlyUsageRecord; call: CallOptions },
  progress: CustomerProgress,
): Promise<void> {
  const { partnerCenter, writer } = deps;
  const customerId = input.record.customerId;
  const takenAt = deps.now();
  const summary = await partnerCenter.getCustomerUsageSummary(customerId, input.call);
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
}
