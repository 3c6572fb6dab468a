import { customersCsv } from '../csv';
import { endpoint, type ApiHandler } from '../endpoint';
import { chooseFormat } from '../negotiation';
import { customerRecordBody } from '../representation';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { parseBoolean, parseCurrency, parseFormat, parseLimit, readQuery } from '../validation';
import { noSnapshotYet } from './partnerUsageSummary';
import { QUERIES } from '../schemas';

/**
 * GET /api/v1/customers: every customer's latest monthly usage record, filtered and paged
 * (one single-partition query per page). JSON, or CSV by `Accept: text/csv` / `?format=csv`.
 */
export function createCustomersHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const query = readQuery(request.query, QUERIES.customers);
      const limit = parseLimit(query.get('limit'));
      const filter = {
        overBudget: parseBoolean('overBudget', query.get('overBudget')),
        isUpgraded: parseBoolean('isUpgraded', query.get('isUpgraded')),
        currency: parseCurrency(query.get('currency')),
      };
      const format = chooseFormat(request.headers.get('accept'), parseFormat(query.get('format')), [
        'json',
        'csv',
      ]);
      const binding = {
        route: 'customers',
        ids: [],
        query: {
          overBudget: filter.overBudget?.toString(),
          isUpgraded: filter.isUpgraded?.toString(),
          currency: filter.currency?.toUpperCase(),
        },
      };
      const storeToken = await api.tokens.unwrap(query.get('continuationToken'), binding);
      const result = await api.reader.listCustomers({ filter, limit, continuationToken: storeToken });
      if (!result) throw noSnapshotYet();
      const data = result.page.items.map(customerRecordBody);
      return api.respond(request, {
        envelope: {
          snapshot: api.meta(result.snapshot),
          data,
          continuationToken: (await api.tokens.wrap(result.page.continuationToken, binding)) ?? null,
        },
        format,
        csv: () => customersCsv(data),
        csvName: 'customers',
      });
    },
  });
}
