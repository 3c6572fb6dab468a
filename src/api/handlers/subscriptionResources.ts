import { resourcesCsv } from '../csv';
import { endpoint, type ApiHandler } from '../endpoint';
import { chooseFormat } from '../negotiation';
import {
  planResourceRecordBody,
  resourceRecordBody,
  subscriptionRecordBody,
  type SubscriptionResourcesBody,
} from '../representation';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseFormat, parseId, readQuery } from '../validation';
import { foundSubscription } from './customerLookup';
import { QUERIES } from '../schemas';

/**
 * GET /api/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources: the subscription's
 * latest resource records, legacy (`kind: legacy`) or an Azure plan's (`kind: azurePlan`), in one
 * shape. An Azure plan snapshotted before its resources were stored: 200 with
 * `hasResourceBreakdown: false` and no resources, not an error.
 */
export function createSubscriptionResourcesHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      const subscriptionId = parseId(request.params.subscriptionId, 'InvalidSubscriptionId');
      const query = readQuery(request.query, QUERIES.resources);
      const format = chooseFormat(request.headers.get('accept'), parseFormat(query.get('format')), [
        'json',
        'csv',
      ]);
      const view = foundSubscription(
        await api.reader.getSubscriptionResources(customerId, subscriptionId),
        customerId,
        subscriptionId,
      );
      const plan = view.hasResourceBreakdown ? undefined : view.detail;
      const data: SubscriptionResourcesBody = {
        subscription: subscriptionRecordBody(view.subscription),
        hasResourceBreakdown: view.hasResourceBreakdown || plan !== undefined,
        resources: plan ? plan.resources.map(planResourceRecordBody) : view.resources.map(resourceRecordBody),
      };
      return api.respond(request, {
        envelope: { snapshot: api.meta(view.snapshot), data },
        format,
        csv: () => resourcesCsv(data),
        csvName: `resources-${subscriptionId}`,
      });
    },
  });
}
