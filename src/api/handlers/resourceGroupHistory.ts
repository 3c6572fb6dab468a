import { ApiError, quote } from '../errors';
import { endpoint, type ApiHandler } from '../endpoint';
import { chooseFormat } from '../negotiation';
import { resourceGroupHistoryPointBody } from '../representation';
import { guid, QUERIES, resourceGroupName } from '../schemas';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseId, parseLimit, parseRange, readQuery } from '../validation';
import { foundSubscription } from './customerLookup';

/**
 * GET …/subscriptions/{subscriptionId}/resource-groups/{resourceGroup}/history: the group's cost
 * per snapshot, newest first, paged; one point per Azure subscription holding a group of that
 * name (case-insensitive), or that Azure subscription's alone with `azureSubscriptionId`.
 */
export function createResourceGroupHistoryHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      const subscriptionId = parseId(request.params.subscriptionId, 'InvalidSubscriptionId');
      const resourceGroup = request.params.resourceGroup;
      if (resourceGroup === undefined || !resourceGroupName.safeParse(resourceGroup).success)
        throw new ApiError(
          'InvalidResourceGroup',
          `resourceGroup ${quote(resourceGroup ?? '')} is not a resource group name (1-90 letters, digits, _ ( ) . -, not ending in .)`,
        );
      const query = readQuery(request.query, QUERIES.resourceGroupHistory);
      const { from, to } = parseRange(query.get('from'), query.get('to'));
      const limit = parseLimit(query.get('limit'));
      const azureSubscription = query.get('azureSubscriptionId');
      if (azureSubscription !== undefined && !guid.safeParse(azureSubscription).success)
        throw new ApiError('InvalidQuery', `azureSubscriptionId ${quote(azureSubscription)} is not a GUID`);
      const azureSubscriptionId = azureSubscription?.toLowerCase();
      chooseFormat(request.headers.get('accept'), undefined, ['json']);
      const binding = {
        route: 'resourceGroupHistory',
        ids: [customerId, subscriptionId, resourceGroup.toLowerCase()],
        query: { from: from?.toISOString(), to: to?.toISOString(), azureSubscriptionId },
      };
      const storeToken = await api.tokens.unwrap(query.get('continuationToken'), binding);
      const lookup = await api.reader.resourceGroupHistory(customerId, subscriptionId, resourceGroup, {
        from,
        to,
        limit,
        continuationToken: storeToken,
        azureSubscriptionId,
      });
      if (lookup.status === 'unknown')
        throw new ApiError(
          'ResourceGroupNotFound',
          `No resource group ${quote(resourceGroup)} in subscription ${subscriptionId} of customer ${customerId} in the cache`,
        );
      const page = foundSubscription(lookup, customerId, subscriptionId);
      const newest = page.items[0];
      return api.respond(request, {
        envelope: {
          snapshot: newest ? api.meta(newest) : null,
          data: page.items.map(resourceGroupHistoryPointBody),
          continuationToken: (await api.tokens.wrap(page.continuationToken, binding)) ?? null,
        },
      });
    },
  });
}
