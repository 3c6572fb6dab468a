import { endpoint, type ApiHandler } from '../endpoint';
import { chooseFormat } from '../negotiation';
import { subscriptionRecordBody } from '../representation';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseId, readQuery } from '../validation';
import { foundCustomer } from './customerLookup';
import { QUERIES } from '../schemas';

/** GET /api/v1/customers/{customerId}/subscriptions: the latest record of each of its subscriptions. */
export function createCustomerSubscriptionsHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      readQuery(request.query, QUERIES.none);
      chooseFormat(request.headers.get('accept'), undefined, ['json']);
      const view = foundCustomer(await api.reader.getCustomer(customerId), customerId);
      return api.respond(request, {
        envelope: {
          snapshot: api.meta(view.snapshot, view.summary),
          data: view.subscriptions.map(subscriptionRecordBody),
        },
      });
    },
  });
}
