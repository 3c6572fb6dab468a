import { randomUUID } from 'node:crypto';
import type { HttpMethod } from '@azure/functions';
import { ALL_METHODS, endpoint, type ApiHandler } from '../api/endpoint';
import {
  createBudgetChangeHandler,
  createBudgetChangesHandler,
  createCustomerBudgetHandler,
} from '../api/handlers/customerBudget';
import { createCustomerHistoryHandler } from '../api/handlers/customerHistory';
import {
  createCustomerDailyUsageHandler,
  createPartnerDailyUsageHandler,
  createUsageExportsHandler,
  DAILY_USAGE_COLUMNS,
} from '../api/handlers/dailyUsage';
import { createCustomerSubscriptionsHandler } from '../api/handlers/customerSubscriptions';
import { createCustomerUsageSummaryHandler } from '../api/handlers/customerUsageSummary';
import { createCustomersHandler } from '../api/handlers/customers';
import { createNotFoundHandler } from '../api/handlers/notFound';
import { createOpenApiHandler } from '../api/handlers/openapi';
import { createPartnerUsageSummaryHandler } from '../api/handlers/partnerUsageSummary';
import { createSnapshotsHandler } from '../api/handlers/snapshots';
import { createSubscriptionHistoryHandler } from '../api/handlers/subscriptionHistory';
import { createSubscriptionResourcesHandler } from '../api/handlers/subscriptionResources';
import {
  createSubscriptionAzureSubscriptionsHandler,
  createSubscriptionMetersHandler,
  createSubscriptionResourceGroupsHandler,
  createSubscriptionUsageSummaryHandler,
} from '../api/handlers/azurePlanDetail';
import { createResourceGroupHistoryHandler } from '../api/handlers/resourceGroupHistory';
import { createHealthHandler } from '../api/health';
import { platformAuthenticationEnabled } from '../config/settings';
import {
  COMMON_ERRORS,
  errorAnswer,
  pathParameter,
  queryParameters,
  schemaRef,
  usageGet,
  type DocumentedRoute,
} from '../api/openapi';
import {
  AZURE_SUBSCRIPTION_COLUMNS,
  CUSTOMER_COLUMNS,
  METER_COLUMNS,
  RESOURCE_COLUMNS,
  RESOURCE_GROUP_COLUMNS,
} from '../api/csv';
import { QUERIES } from '../api/schemas';
import { dependencies, type Dependencies } from '../app/dependencies';
import { consoleLogger } from '../observability/logger';
import { createDailyUsageReader } from '../usageExport/dailyUsageReader';
import { exportPipeline } from '../usageExport/exportDependencies';
import { requestBilledExport } from '../usageExport/pipeline';
import { APP_VERSION } from '../version';

/**
 * One HTTP function: what the Functions host indexes, how its handler is built, and how the
 * OpenAPI document describes it (`document`; its path is `route`, its security `authLevel`).
 */
export interface HttpFunction extends DocumentedRoute {
  name: string;
  methods: HttpMethod[];
  /**
   * Builds the handler from the composition root, on the first request, so that a process that
   * never serves the route never builds its clients, and liveness needs no settings.
   */
  create: (root: () => Dependencies) => ApiHandler;
}

/** The budget route: GET at function level, PUT at admin level (two functions, one path). */
const BUDGET_ROUTE = 'v1/customers/{customerId}/budget';

/** What the read routes take: the Table reader and the settings; paged ones the token keys too. */
const reads = (root: () => Dependencies) => ({ reader: root().usageStore, settings: root().settings });
const dailyReads = (root: () => Dependencies) => ({ reader: createDailyUsageReader(root().usageExports) });
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

const SUBSCRIPTION_NOT_FOUND =
  'CustomerNotFound (the customer is unknown), SubscriptionNotFound or SubscriptionNotSnapshotted.';
const subscriptionListParameters = [
  pathParameter('customerId'),
  pathParameter('subscriptionId'),
  ...queryParameters(QUERIES.resources),
];

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
    document: {
      get: {
        operationId: 'getHealth',
        summary: 'Whether Table Storage and the secret store answer.',
        tags: ['meta'],
        responses: {
          '200': { description: 'Healthy', content: { 'application/json': { schema: schemaRef('Health') } } },
          '503': {
            description: 'Unhealthy',
            content: { 'application/json': { schema: schemaRef('Health') } },
          },
        },
      },
    },
  },
  {
    name: 'partnerUsageSummary',
    route: 'v1/partner/usage-summary',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createPartnerUsageSummaryHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'getPartnerUsageSummary',
        summary: 'The latest partner usage summary.',
        schema: 'PartnerUsageSummaryResponse',
        notFound: 'NoSnapshotYet: no snapshot has completed.',
      }),
    },
  },
  {
    name: 'customers',
    route: 'v1/customers',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomersHandler(pagedReads(root)),
    document: {
      get: usageGet({
        operationId: 'listCustomers',
        summary: "Every customer's latest monthly usage record, paged.",
        schema: 'CustomersResponse',
        csvColumns: CUSTOMER_COLUMNS,
        paged: true,
        parameters: queryParameters(QUERIES.customers),
        notFound: 'NoSnapshotYet: no snapshot has completed.',
      }),
    },
  },
  {
    name: 'customerUsageSummary',
    route: 'v1/customers/{customerId}/usage-summary',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerUsageSummaryHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'getCustomerUsageSummary',
        summary: "A customer's latest usage summary.",
        schema: 'CustomerUsageSummaryResponse',
        parameters: [pathParameter('customerId')],
        notFound: 'CustomerNotFound, or CustomerNotSnapshotted when it is known but not snapshotted yet.',
      }),
    },
  },
  {
    name: 'customerSubscriptions',
    route: 'v1/customers/{customerId}/subscriptions',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerSubscriptionsHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'listCustomerSubscriptions',
        summary: "The latest usage record of each of the customer's subscriptions.",
        schema: 'SubscriptionsResponse',
        parameters: [pathParameter('customerId')],
        notFound: 'CustomerNotFound or CustomerNotSnapshotted.',
      }),
    },
  },
  {
    name: 'subscriptionResources',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/resources',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionResourcesHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'listSubscriptionResources',
        summary:
          "A subscription's latest resource usage records, legacy or Azure plan (told apart by `kind`).",
        schema: 'SubscriptionResourcesResponse',
        csvColumns: RESOURCE_COLUMNS,
        parameters: [
          pathParameter('customerId'),
          pathParameter('subscriptionId'),
          ...queryParameters(QUERIES.resources),
        ],
        notFound:
          'CustomerNotFound (the customer is unknown), SubscriptionNotFound or SubscriptionNotSnapshotted.',
      }),
    },
  },
  {
    name: 'customerHistory',
    route: 'v1/customers/{customerId}/history',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerHistoryHandler(pagedReads(root)),
    document: {
      get: usageGet({
        operationId: 'getCustomerHistory',
        summary: "The customer's total per snapshot, newest first, paged.",
        schema: 'HistoryResponse',
        paged: true,
        snapshotMayBeNull: true,
        parameters: [pathParameter('customerId'), ...queryParameters(QUERIES.history)],
        notFound: 'CustomerNotFound or CustomerNotSnapshotted.',
      }),
    },
  },
  {
    name: 'customerBudget',
    route: BUDGET_ROUTE,
    // Every method but PUT, which the admin-level function below serves.
    methods: ALL_METHODS.filter((m) => m !== 'PUT'),
    authLevel: 'function',
    create: (root) => createCustomerBudgetHandler({ ...reads(root), budgets: root().usageStore.budgets }),
    document: {
      get: usageGet({
        operationId: 'getCustomerBudget',
        summary:
          "The customer's spending budget as cached: the snapshot's, or a change made through PUT since.",
        schema: 'CustomerBudgetResponse',
        snapshotMayBeNull: true,
        cacheControl:
          'private, no-cache: a PUT can change it before the next snapshot; revalidate with the ETag.',
        parameters: [pathParameter('customerId')],
        notFound:
          'CustomerNotFound, or CustomerNotSnapshotted when it is known, not snapshotted and its budget was never set here.',
      }),
    },
  },
  {
    // Admin: a change is a write to Partner Center.
    name: 'customerBudgetChange',
    route: BUDGET_ROUTE,
    methods: ['PUT'],
    authLevel: 'admin',
    create: (root) =>
      createBudgetChangeHandler({
        reader: root().usageStore,
        budgets: root().usageStore.budgets,
        partnerCenter: root().partnerCenter,
        platformAuthentication: platformAuthenticationEnabled(process.env),
        newId: randomUUID,
      }),
    document: {
      put: {
        operationId: 'setCustomerBudget',
        summary:
          "Set (or, with null, remove) the customer's spending budget in Partner Center, then in the cache.",
        description:
          'Partner Center is asked first; only when it accepts is the cached budget changed and the change recorded as applied. ' +
          'A refusal or failure (403, 429 after retries, 5xx, timeout) changes nothing in the cache. Repeating a PUT is safe.',
        tags: ['budgets'],
        parameters: [pathParameter('customerId')],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schemaRef('BudgetChangeRequest') } },
        },
        responses: {
          '200': {
            description: 'Applied: the budget as Partner Center now has it, and the change as recorded.',
            content: { 'application/json': { schema: schemaRef('BudgetChangeResponse') } },
          },
          '404': errorAnswer('CustomerNotFound: unknown to the cache, or to Partner Center.'),
          '415': errorAnswer('UnsupportedMediaType: the body is not application/json.'),
          '502': errorAnswer(
            'PartnerCenterRefused (Partner Center answered 4xx, e.g. 403) or PartnerCenterUnavailable (5xx, timeout): nothing changed in the cache.',
          ),
          ...COMMON_ERRORS,
          '400': errorAnswer('InvalidCustomerId, InvalidQuery, InvalidBody or InvalidBudgetAmount.'),
          '503': {
            description:
              'PartnerCenterThrottled (Partner Center kept answering 429; nothing changed) or StorageUnavailable; retry after `Retry-After` seconds.',
            headers: {
              'Retry-After': {
                description: 'Seconds to wait before retrying.',
                required: true,
                schema: { type: 'string' },
              },
            },
            content: { 'application/json': { schema: schemaRef('Error') } },
          },
        },
      },
    },
  },
  {
    // Admin: the audit trail names who changed what.
    name: 'customerBudgetChanges',
    route: `${BUDGET_ROUTE}/changes`,
    methods: ALL_METHODS,
    authLevel: 'admin',
    create: (root) => createBudgetChangesHandler({ ...pagedReads(root), budgets: root().usageStore.budgets }),
    document: {
      get: {
        operationId: 'listCustomerBudgetChanges',
        summary:
          'Budget changes made through PUT …/budget, newest first, paged: who, when, old and new amount.',
        tags: ['budgets'],
        parameters: [pathParameter('customerId'), ...queryParameters(QUERIES.budgetChanges)],
        responses: {
          '200': {
            description: 'OK',
            content: { 'application/json': { schema: schemaRef('BudgetChangesResponse') } },
          },
          '404': errorAnswer('CustomerNotFound or CustomerNotSnapshotted (and no change recorded).'),
          ...COMMON_ERRORS,
        },
      },
    },
  },
  {
    name: 'subscriptionHistory',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/history',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionHistoryHandler(pagedReads(root)),
    document: {
      get: usageGet({
        operationId: 'getSubscriptionHistory',
        summary: "The subscription's total per snapshot, newest first, paged.",
        schema: 'HistoryResponse',
        paged: true,
        snapshotMayBeNull: true,
        parameters: [
          pathParameter('customerId'),
          pathParameter('subscriptionId'),
          ...queryParameters(QUERIES.history),
        ],
        notFound:
          'CustomerNotFound (the customer is unknown), SubscriptionNotFound or SubscriptionNotSnapshotted.',
      }),
    },
  },
  {
    name: 'subscriptionUsageSummary',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/usage-summary',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionUsageSummaryHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'getSubscriptionUsageSummary',
        summary: "A subscription's latest usage summary (legacy or Azure plan).",
        schema: 'SubscriptionUsageSummaryResponse',
        parameters: [pathParameter('customerId'), pathParameter('subscriptionId')],
        notFound: SUBSCRIPTION_NOT_FOUND,
      }),
    },
  },
  {
    name: 'subscriptionMeters',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/meters',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionMetersHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'listSubscriptionMeters',
        summary: "An Azure plan's latest meter usage records.",
        schema: 'SubscriptionMetersResponse',
        csvColumns: METER_COLUMNS,
        parameters: subscriptionListParameters,
        notFound: SUBSCRIPTION_NOT_FOUND,
      }),
    },
  },
  {
    name: 'subscriptionResourceGroups',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/resource-groups',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionResourceGroupsHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'listSubscriptionResourceGroups',
        summary:
          "An Azure plan's cost per Azure subscription and resource group, summed exactly from its resources.",
        schema: 'SubscriptionResourceGroupsResponse',
        csvColumns: RESOURCE_GROUP_COLUMNS,
        parameters: subscriptionListParameters,
        notFound: SUBSCRIPTION_NOT_FOUND,
      }),
    },
  },
  {
    name: 'subscriptionAzureSubscriptions',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/azure-subscriptions',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createSubscriptionAzureSubscriptionsHandler(reads(root)),
    document: {
      get: usageGet({
        operationId: 'listSubscriptionAzureSubscriptions',
        summary: "An Azure plan's Azure subscriptions, each with its resources' cost.",
        schema: 'SubscriptionAzureSubscriptionsResponse',
        csvColumns: AZURE_SUBSCRIPTION_COLUMNS,
        parameters: subscriptionListParameters,
        notFound: SUBSCRIPTION_NOT_FOUND,
      }),
    },
  },
  {
    name: 'resourceGroupHistory',
    route: 'v1/customers/{customerId}/subscriptions/{subscriptionId}/resource-groups/{resourceGroup}/history',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createResourceGroupHistoryHandler(pagedReads(root)),
    document: {
      get: usageGet({
        operationId: 'getResourceGroupHistory',
        summary:
          "A resource group's cost per snapshot (a point per Azure subscription holding it), newest first, paged.",
        schema: 'ResourceGroupHistoryResponse',
        paged: true,
        snapshotMayBeNull: true,
        parameters: [
          pathParameter('customerId'),
          pathParameter('subscriptionId'),
          pathParameter('resourceGroup'),
          ...queryParameters(QUERIES.resourceGroupHistory),
        ],
        notFound: `${SUBSCRIPTION_NOT_FOUND} ResourceGroupNotFound: the plan never had a group of that name.`,
      }),
    },
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
    document: {
      get: {
        operationId: 'listSnapshotRuns',
        summary: 'Recent snapshot runs and their state, newest first.',
        tags: ['snapshots'],
        parameters: queryParameters(QUERIES.runs),
        responses: {
          '200': {
            description: 'OK',
            content: { 'application/json': { schema: schemaRef('RunsResponse') } },
          },
          ...COMMON_ERRORS,
        },
      },
      post: {
        operationId: 'requestSnapshotRun',
        summary: 'Ask for a snapshot run now.',
        tags: ['snapshots'],
        responses: {
          '202': {
            description: 'Queued; data.runId identifies the run in GET /v1/snapshots.',
            content: { 'application/json': { schema: schemaRef('RunResponse') } },
          },
          '409': errorAnswer('RunAlreadyActive: a run is queued or running.'),
          ...COMMON_ERRORS,
        },
      },
    },
  },
  {
    name: 'customerDailyUsage',
    route: 'v1/customers/{customerId}/daily-usage',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createCustomerDailyUsageHandler(dailyReads(root)),
    document: {
      get: usageGet({
        operationId: 'getCustomerDailyUsage',
        summary: "The customer's usage per day from the Graph usage export, grouped as asked.",
        description:
          'Each month shows one complete export (named in `sources`): the previous one until a new one is merged. A tag grouping adds, per day, an untagged remainder (value null), so a tag adds up to the total. An unknown customer or a month without an export has no points.',
        schema: 'DailyUsageResponse',
        csvColumns: DAILY_USAGE_COLUMNS,
        snapshotMayBeNull: true,
        parameters: [pathParameter('customerId'), ...queryParameters(QUERIES.dailyUsage)],
        notFound: 'Not answered: a customer without figures has an empty data array.',
      }),
    },
  },
  {
    name: 'partnerDailyUsage',
    route: 'v1/daily-usage',
    methods: ALL_METHODS,
    authLevel: 'function',
    create: (root) => createPartnerDailyUsageHandler(dailyReads(root)),
    document: {
      get: usageGet({
        operationId: 'getPartnerDailyUsage',
        summary: "Every customer's usage per day from the Graph usage export, grouped as asked.",
        schema: 'DailyUsageResponse',
        csvColumns: DAILY_USAGE_COLUMNS,
        snapshotMayBeNull: true,
        parameters: queryParameters(QUERIES.partnerDailyUsage),
        notFound: 'Not answered: no figures is an empty data array.',
      }),
    },
  },
  {
    // Admin: starting an export calls Graph, and the list shows operational detail.
    name: 'usageExports',
    route: 'v1/usage-exports',
    methods: ALL_METHODS,
    authLevel: 'admin',
    create: (root) =>
      createUsageExportsHandler({
        reader: dailyReads(root).reader,
        requester: root().exportQueue
          ? {
              requestBilledExport: (invoiceId) =>
                requestBilledExport(exportPipeline(root(), consoleLogger()), invoiceId),
            }
          : undefined,
      }),
    document: {
      get: {
        operationId: 'listUsageExports',
        summary: 'Recent usage exports: state, blobs, lines read, failures; newest first.',
        tags: ['exports'],
        parameters: queryParameters(QUERIES.usageExports),
        responses: {
          '200': {
            description: 'OK',
            content: { 'application/json': { schema: schemaRef('UsageExportsResponse') } },
          },
          ...COMMON_ERRORS,
        },
      },
      post: {
        operationId: 'requestBilledUsageExport',
        summary: 'Start a billed usage export for an invoice: body {"invoiceId": "G000000000"}.',
        tags: ['exports'],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schemaRef('BilledUsageExportRequest') } },
        },
        responses: {
          '202': {
            description: 'Started; the poll timer follows it (GET /v1/usage-exports).',
            content: { 'application/json': { schema: schemaRef('UsageExportResponse') } },
          },
          '415': errorAnswer('UnsupportedMediaType: the body is not application/json.'),
          ...COMMON_ERRORS,
          '400': errorAnswer(
            'InvalidQuery (a query parameter) or InvalidBody (not exactly {"invoiceId": "…"}).',
          ),
        },
      },
    },
  },
  {
    // Anonymous: the document holds no data and no secret, and tooling (code generators, Swagger
    // UI) can fetch it without a key; every route it describes still checks its own key.
    name: 'openapi',
    route: 'v1/openapi.json',
    methods: ALL_METHODS,
    authLevel: 'anonymous',
    create: () => createOpenApiHandler(HTTP_FUNCTIONS),
    document: {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document.',
        tags: ['meta'],
        responses: {
          '200': {
            description: 'OpenAPI 3.1',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          '304': { description: 'Not modified.' },
        },
      },
    },
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
