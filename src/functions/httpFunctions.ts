import type { HttpMethod } from '@azure/functions';
import { ALL_METHODS, endpoint, type ApiHandler } from '../api/endpoint';
import { createCustomerHistoryHandler } from '../api/handlers/customerHistory';
import { createCustomerSubscriptionsHandler } from '../api/handlers/customerSubscriptions';
import { createCustomerUsageSummaryHandler } from '../api/handlers/customerUsageSummary';
import { createCustomersHandler } from '../api/handlers/customers';
import { createNotFoundHandler } from '../api/handlers/notFound';
import { createOpenApiHandler } from '../api/handlers/openapi';
import { createPartnerUsageSummaryHandler } from '../api/handlers/partnerUsageSummary';
import { createSnapshotsHandler } from '../api/handlers/snapshots';
import { createSubscriptionHistoryHandler } from '../api/handlers/subscriptionHistory';
import { createSubscriptionResourcesHandler } from '../api/handlers/subscriptionResources';
import { createHealthHandler } from '../api/health';
import { dependencies, type Dependencies } from '../app/dependencies';
import { APP_VERSION } from '../version';

/** One HTTP function: what the Functions host indexes, and how its handler is built. */
export interface HttpFunction {
  name: string;
  /** Below the route prefix (host.json `extensions.http.routePrefix`, `api`). */
  route: string;
  methods: HttpMethod[];
  authLevel: 'anonymous' | 'function' | 'admin';
  /**
   * Builds the handler from the composition root, on the first request, so that a process that
   * never serves the route never builds its clients, and liveness needs no settings.
   */
  create: (root: () => Dependencies) => ApiHandler;
}

/** What the read routes take: the Table reader and the settings; paged ones the token keys too. */
const reads = (root: () => Dependencies) => ({ reader: root().usageStore, settings: root().settings });
const pagedReads = (root: () => Dependencies) => ({
  ...reads(root),
  tokenKeys: root().continuationTokenKeys,
});

// Built at load, so its cache and in-flight probe are shared by every invocation of the process.
// The probes reach for the composition root only when they run, so liveness needs no settings.
const healthHandler = createHealthHandler({
  version: APP_VERSION,
  probes: {
    // Listing at most one table proves the endpoint answers and the identity may read tables.
    tableStorage: async (abortSignal) => {
      await dependencies().tables.service.listTables({ abortSignal }).byPage({ maxPageSize: 1 }).next();
    },
    secretStore: (abortSignal) => dependencies().secretStore.ping(abortSignal),
  },
});

/**
 * Every HTTP function of the app. Registered for all methods, so that a wrong one reaches the
 * handler and gets 405 with Allow (the host alone would answer a bare 404). The host orders routes
 * by specificity, so `notFound`'s catch-all only gets what no other route matches.
 */
export const HTTP_FUNCTIONS: readonly HttpFunction[] = [
  {
    name: 'health',
    route: 'health',
    methods: ALL_METHODS,
    authLevel: 'anonymous',
    create: () => endpoint({ GET: (request) => healthHandler(request) }),
  },
  {
    name: 'partnerUsageSummary',
    route: 'v1/partner/usage-summary',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createPartnerUsageSummaryHandler(reads(root)),
  },
  {
    name: 'customers',
    route: 'v1/customers',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomersHandler(pagedReads(root)),
  },
  {
    name: 'customerUsageSummary',
    route: 'v1/customers/{customerId}/usage-summary',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerUsageSummaryHandler(reads(root)),
  },
  {
    name: 'customerSubscriptions',
    route: 'v1/customers/{customerId}/subscriptions',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerSubscriptionsHandler(reads(root)),
  },
  {
    name: 'subscriptionResources',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/resources',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionResourcesHandler(reads(root)),
  },
  {
    name: 'customerHistory',
    route: 'v1/customers/{customerId}/history',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerHistoryHandler(pagedReads(root)),
  },
  {
    name: 'subscriptionHistory',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/history',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionHistoryHandler(pagedReads(root)),
  },
  {
    // Admin: a run costs Partner Center quota, and the run list shows operational detail.
    name: 'snapshots',
    route: 'v1/snapshots',
    methods: ALL_METHODS,
    authLevel: 'admin',
    create: (root) =>
      createSnapshotsHandler({
        reader: root().usageStore,
        runs: root().usageStore,
        queue: root().runRequests,
      }),
  },
  {
    // Anonymous: the document holds no data and no secret, and tooling (code generators, Swagger
    // UI) can fetch it without a key; every route it describes still checks its own key.
    name: 'openapi',
    route: 'v1/openapi.json',
    methods: ALL_METHODS,
    authLevel: 'anonymous',
    create: () => createOpenApiHandler(),
  },
  {
    // The least specific route there is: only unknown paths land here and get a JSON 404 instead
    // of the host's empty one. Anonymous, so an unknown path says the same to everyone.
    name: 'notFound',
    route: '{*path}',
    methods: ALL_METHODS,
    authLevel: 'anonymous',
    create: () => createNotFoundHandler(),
  },
];
