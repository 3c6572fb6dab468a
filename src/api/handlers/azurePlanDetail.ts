import type { HttpRequest } from '@azure/functions';
import { azureSubscriptionCosts, resourceGroupCosts } from '../../domain/azurePlan';
import type { SubscriptionResourcesView } from '../../domain/usageReader';
import {
  AZURE_SUBSCRIPTION_COLUMNS,
  METER_COLUMNS,
  RESOURCE_GROUP_COLUMNS,
  subscriptionRowsCsv,
} from '../csv';
import { endpoint, type ApiHandler } from '../endpoint';
import { chooseFormat, type Format } from '../negotiation';
import {
  azureSubscriptionCostBody,
  meterRecordBody,
  resourceGroupCostBody,
  subscriptionRecordBody,
  subscriptionSummaryBody,
} from '../representation';
import { QUERIES } from '../schemas';
import { usageApi, type UsageApi, type UsageApiDependencies } from '../usageResponse';
import { parseFormat, parseId, readQuery } from '../validation';
import { foundSubscription } from './customerLookup';

/**
 * The routes below `…/subscriptions/{subscriptionId}/` that show what a snapshot stored of one
 * subscription beyond its record: its usage summary, and an Azure plan's meters, resource groups
 * and Azure subscriptions. Each is one point read and one single-partition query (the
 * subscription's view, as for its resources); sums are exact (src/domain/decimal.ts).
 */

/** The subscription's view, read once the ids and the query passed. */
async function readSubscription(
  api: UsageApi,
  request: HttpRequest,
  formats: Format[],
): Promise<{ subscriptionId: string; view: SubscriptionResourcesView; format: Format }> {
  const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
  const subscriptionId = parseId(request.params.subscriptionId, 'InvalidSubscriptionId');
  const query = readQuery(request.query, formats.includes('csv') ? QUERIES.resources : QUERIES.none);
  const format = chooseFormat(request.headers.get('accept'), parseFormat(query.get('format')), formats);
  const view = foundSubscription(
    await api.reader.getSubscriptionResources(customerId, subscriptionId),
    customerId,
    subscriptionId,
  );
  return { subscriptionId, view, format };
}

/** A list route: `{ subscription, [name]: rows }` as JSON, or the rows as CSV. */
function listRoute<T extends object>(
  deps: UsageApiDependencies,
  name: string,
  columns: readonly string[],
  rows: (view: SubscriptionResourcesView) => T[],
): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const { subscriptionId, view, format } = await readSubscription(api, request, ['json', 'csv']);
      const items = rows(view);
      return api.respond(request, {
        envelope: {
          snapshot: api.meta(view.snapshot),
          data: { subscription: subscriptionRecordBody(view.subscription), [name]: items },
        },
        format,
        csv: () => subscriptionRowsCsv(columns, subscriptionId, items),
        csvName: `${name}-${subscriptionId}`,
      });
    },
  });
}

/** GET …/subscriptions/{subscriptionId}/usage-summary: its own summary (null when none). */
export function createSubscriptionUsageSummaryHandler(deps: UsageApiDependencies): ApiHandler {
  const api = usageApi(deps);
  return endpoint({
    GET: async (request) => {
      const { view } = await readSubscription(api, request, ['json']);
      const summary = view.detail?.summary;
      return api.respond(request, {
        envelope: {
          snapshot: api.meta(view.snapshot),
          data: summary ? subscriptionSummaryBody(summary) : null,
        },
      });
    },
  });
}

/** GET …/subscriptions/{subscriptionId}/meters: an Azure plan's meter records. */
export function createSubscriptionMetersHandler(deps: UsageApiDependencies): ApiHandler {
  return listRoute(deps, 'meters', METER_COLUMNS, (view) => (view.detail?.meters ?? []).map(meterRecordBody));
}

/** GET …/subscriptions/{subscriptionId}/resource-groups: cost per Azure subscription and group. */
export function createSubscriptionResourceGroupsHandler(deps: UsageApiDependencies): ApiHandler {
  return listRoute(deps, 'resourceGroups', RESOURCE_GROUP_COLUMNS, (view) =>
    resourceGroupCosts(view.detail?.resources ?? []).map((g) => resourceGroupCostBody(g, view.subscription)),
  );
}

/** GET …/subscriptions/{subscriptionId}/azure-subscriptions: the plan's Azure subscriptions and their cost. */
export function createSubscriptionAzureSubscriptionsHandler(deps: UsageApiDependencies): ApiHandler {
  return listRoute(deps, 'azureSubscriptions', AZURE_SUBSCRIPTION_COLUMNS, (view) =>
    azureSubscriptionCosts(view.detail?.azureSubscriptions ?? [], view.detail?.resources ?? []).map((a) =>
      azureSubscriptionCostBody(a, view.subscription),
    ),
  );
}
