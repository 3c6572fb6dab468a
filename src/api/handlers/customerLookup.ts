import type { Lookup, SubscriptionLookup } from '../../domain/usageReader';
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

/** Subscription routes: the 404 says which id is unknown, the customer or its subscription. */
export function foundSubscription<T>(
  lookup: SubscriptionLookup<T>,
  customerId: string,
  subscriptionId: string,
): T {
  if (lookup.status === 'found') return lookup.value;
  if (lookup.status === 'customerUnknown') {
    throw new ApiError('CustomerNotFound', `No customer ${customerId} in the cache`);
  }
  if (lookup.status === 'notSnapshotted') {
    throw new ApiError(
      'SubscriptionNotSnapshotted',
      `Subscription ${subscriptionId} of customer ${customerId} is known but no snapshot has covered it yet`,
    );
  }
  throw new ApiError(
    'SubscriptionNotFound',
    `No subscription ${subscriptionId} of customer ${customerId} in the cache`,
  );
}
