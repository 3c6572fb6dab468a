import { endpoint, type ApiHandler } from '../endpoint';
import { ApiError } from '../errors';
import { chooseFormat } from '../negotiation';
import { partnerSummaryBody } from '../representation';
import { usageApi, type UsageApiDependencies } from '../usageResponse';
import { readQuery } from '../validation';
import { QUERIES } from '../schemas';

/** GET /api/v1/partner/usage-summary: the partner's totals from the latest snapshot (one point read). */
export function createPartnerUsageSummaryHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      readQuery(request.query, QUERIES.none);
      chooseFormat(request.headers.get('accept'), undefined, ['json']);
      const result = await api.reader.getPartnerSummary();
      if (!result) throw noSnapshotYet();
      return api.respond(request, {
        envelope: {
          snapshot: api.meta(result.snapshot, result.summary),
          data: partnerSummaryBody(result.summary, result.customerTotals),
        },
      });
    },
  });
}

export function noSnapshotYet(): ApiError {
  return new ApiError(
    'NoSnapshotYet',
    'No snapshot has completed yet; ask for one with POST /api/v1/snapshots',
  );
}
