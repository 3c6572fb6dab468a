import { endpoint, type ApiHandler } from '../endpoint';
import { chooseFormat } from '../negotiation';
import { customerSummaryBody } from '../representation';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseId, readQuery } from '../validation';
import { foundCustomer } from './customerLookup';
import { QUERIES } from '../schemas';

/**
 * GET /api/v1/customers/{customerId}/usage-summary: the customer's latest summary; `data` is null
 * when Partner Center reported no usage for the customer in that snapshot.
 */
export function createCustomerUsageSummaryHandler(deps: UsageApiDependencies): ApiHandler {
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
          data: view.summary ? customerSummaryBody(view.summary) : null,
        },
      });
    },
  });
}
