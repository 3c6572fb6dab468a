import type { Sandbox } from '../../dev/sandbox';

/** A customer the read scenarios ask for, and its subscriptions (ids lower-cased, as stored). */
export interface SnapshotTarget {
  customerId: string;
  subscriptionIds: string[];
}

/** The sandbox's first `count` customers that have at least one subscription. */
export function snapshotTargets(sandbox: Sandbox, count: number): SnapshotTarget[] {
  const targets: SnapshotTarget[] = [];
  for (let i = 0; i < Math.min(count, sandbox.data.customerCount); i++) {
    const customer = sandbox.data.customer(i);
    if (customer.subscriptions.length === 0) continue;
    targets.push({
      customerId: customer.id.toLowerCase(),
      subscriptionIds: customer.subscriptions.map((s) => s.id.toLowerCase()),
    });
  }
  return targets;
}
