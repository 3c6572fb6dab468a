import { endpoint, type ApiHandler } from '../endpoint';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseId } from '../validation';
import { foundSubscription } from './customerLookup';
import { historyResponse } from './history';

/** GET /api/v1/customers/{customerId}/subscriptions/{subscriptionId}/history: its total per snapshot. */
export function createSubscriptionHistoryHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      const subscriptionId = parseId(request.params.subscriptionId, 'InvalidSubscriptionId');
      return historyResponse(
        api,
        request,
        'subscriptionHistory',
        [customerId, subscriptionId],
        async (query) =>
          foundSubscription(
            await api.reader.subscriptionHistory(customerId, subscriptionId, query),
            customerId,
            subscriptionId,
          ),
      );
    },
  });
}
