import { endpoint, type ApiHandler } from '../endpoint';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseId } from '../validation';
import { foundCustomer } from './customerLookup';
import { historyResponse } from './history';

/** GET /api/v1/customers/{customerId}/history: the customer's total per snapshot (one partition). */
export function createCustomerHistoryHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      return historyResponse(api, request, 'customerHistory', [customerId], async (query) =>
        foundCustomer(await api.reader.customerHistory(customerId, query), customerId),
      );
    },
  });
}
