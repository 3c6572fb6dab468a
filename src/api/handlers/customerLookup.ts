import type { Lookup, UsageReader } from '../../storage/usageStore';
import { ApiError } from '../errors';

/** The found value, or the 404 that says whether the customer is unknown or not snapshotted yet. */
export function foundCustomer<T>(lookup: Lookup<T>, customerId: string): T {
  if (lookup.status === 'found') return lookup.value;
  if (lookup.status === 'notSnapshotted') {
    throw new ApiError(
      'CustomerNotSnapshotted',
      `Customer ${customerId} is known but no snapshot has covered it yet; try again after the next run`,
    );
  }
  throw new ApiError('CustomerNotFound', `No customer ${customerId} in the cache`);
}

/**
 * Subscription routes: the store answers one lookup for the pair. Only when that finds nothing is
 * the customer looked up too (one more point read, on the 404 path only), so that an unknown
 * customer is CustomerNotFound and an unknown subscription of a known one SubscriptionNotFound.
 */
export async function foundSubscription<T>(
  lookup: Lookup<T>,
  reader: Pick<UsageReader, 'getCustomer'>,
  customerId: string,
  subscriptionId: string,
): Promise<T> {
  if (lookup.status === 'found') return lookup.value;
  if (lookup.status === 'notSnapshotted') {
    throw new ApiError(
      'SubscriptionNotSnapshotted',
      `Subscription ${subscriptionId} of customer ${customerId} is known but no snapshot has covered it yet`,
    );
  }
  foundCustomer(await reader.getCustomer(customerId), customerId);
  throw new ApiError(
    'SubscriptionNotFound',
    `No subscription ${subscriptionId} of customer ${customerId} in the cache`,
  );
}
