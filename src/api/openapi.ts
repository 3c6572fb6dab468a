import { APP_VERSION } from '../version';
import { API_ERROR_CODES } from './errors';
import { CACHE_CAP_SECONDS } from './cacheControl';
import { MAX_RUNS } from './handlers/snapshots';
import { DEFAULT_LIMIT, MAX_LIMIT } from './validation';

/**
 * The OpenAPI 3.1 description of every route the app registers, with a JSON Schema (2020-12) for
 * every body. test/api/openapi.test.ts holds the app to it: each registered route is here and each
 * path here is registered, and real responses validate against these schemas. Objects are closed
 * (`additionalProperties: false`) so a field added to a response without documenting it fails.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const object = (properties: Record<string, Schema>, description?: string): Schema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  required: Object.keys(properties),
  additionalProperties: false,
});

const DECIMAL_PATTERN = '^-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?$';
const GUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

const decimal = (description: string): Schema => ({ type: 'string', pattern: DECIMAL_PATTERN, description });
const nullableDecimal = (description: string): Schema => ({
  type: ['string', 'null'],
  pattern: DECIMAL_PATTERN,
  description,
});
const dateTime: Schema = { type: 'string', format: 'date-time' };
const nullableDateTime: Schema = { type: ['string', 'null'], format: 'date-time' };
const nullableString: Schema = { type: ['string', 'null'] };
const guid: Schema = { type: 'string', pattern: GUID_PATTERN };

const money = {
  totalCost: decimal('Exact decimal amount as Partner Center sent it, in the record currency.'),
  currencyCode: { type: ['string', 'null'], description: 'ISO 4217 code (Azure plan customers).' },
  currencyLocale: { type: ['string', 'null'], description: 'Pricing locale, e.g. fr-FR (legacy customers).' },
};

const schemas: Record<string, Schema> = {
  Error: object({
    error: object({
      code: { type: 'string', enum: [...API_ERROR_CODES] },
      message: { type: 'string' },
    }),
  }),
  BillingPeriod: object({ start: nullableDateTime, end: nullableDateTime }),
  Snapshot: object(
    {
      runId: { type: 'string', description: 'Id of the snapshot run that wrote this data.' },
      takenAt: { ...dateTime, description: 'When the data was read from Partner Center.' },
      billingPeriod: nullable(ref('BillingPeriod')),
      stale: { type: 'boolean', description: 'True when takenAt is older than STALE_AFTER_MINUTES.' },
    },
    'Which snapshot the data comes from.',
  ),
  PartnerUsageSummary: object({
    partnerId: { type: 'string' },
    name: nullableString,
    customersOverBudget: { type: 'integer', minimum: 0 },
    customersTrendingOver: { type: 'integer', minimum: 0 },
    customersWithUsageBasedSubscription: { type: 'integer', minimum: 0 },
    billingPeriod: ref('BillingPeriod'),
    ...money,
    lastModifiedDate: nullableDateTime,
  }),
  CustomerRecord: object({
    customerId: guid,
    name: nullableString,
    isUpgraded: { type: 'boolean', description: 'True: the customer has an Azure plan.' },
    budget: nullableDecimal('Spending budget; null when none is set.'),
    customerSpendingBudget: nullableDecimal('customerSpendingBudget.amount, when Partner Center sends it.'),
    percentUsed: nullableDecimal('Percentage of the budget used.'),
    ...money,
    usdTotalCost: nullableDecimal('The total in USD, where Partner Center gives one.'),
    lastModifiedDate: nullableDateTime,
  }),
  CustomerUsageSummary: object({
    customerId: guid,
    name: nullableString,
    budget: nullableDecimal('Spending budget; null when none is set.'),
    billingPeriod: ref('BillingPeriod'),
    ...money,
    usdTotalCost: nullableDecimal('The total in USD, where Partner Center gives one.'),
    lastModifiedDate: nullableDateTime,
  }),
  SubscriptionRecord: object({
    subscriptionId: guid,
    name: nullableString,
    status: { type: 'string' },
    offerId: { type: 'string', description: 'MS-AZR-0145P for a legacy Microsoft Azure subscription.' },
    partnerOnRecord: nullableString,
    hasResourceBreakdown: { type: 'boolean', description: 'Only legacy subscriptions have resources.' },
    ...money,
    usdTotalCost: nullableDecimal('The total in USD, where Partner Center gives one.'),
    lastModifiedDate: nullableDateTime,
  }),
  ResourceRecord: object({
    resourceId: { type: 'string' },
    name: nullableString,
    category: { type: 'string' },
    subcategory: { type: 'string' },
    quantityUsed: decimal('Exact decimal quantity in `unit`.'),
    unit: { type: 'string' },
    ...money,
  }),
  SubscriptionResources: object({
    subscription: ref('SubscriptionRecord'),
    hasResourceBreakdown: {
      type: 'boolean',
      description: 'False for Azure plans: Partner Center has no breakdown for them; resources is empty.',
    },
    resources: { type: 'array', items: ref('ResourceRecord') },
  }),
  HistoryPoint: object({
    runId: { type: 'string' },
    takenAt: dateTime,
    billingPeriod: nullable(ref('BillingPeriod')),
    totalCost: money.totalCost,
    usdTotalCost: nullableDecimal('The total in USD, where Partner Center gives one.'),
    currencyCode: money.currencyCode,
    currencyLocale: money.currencyLocale,
  }),
  Run: object({
    runId: { type: 'string' },
    state: { type: 'string', enum: ['queued', 'running', 'succeeded', 'partial', 'failed'] },
    trigger: { type: 'string', enum: ['timer', 'manual', 'cli'] },
    correlationId: { type: 'string' },
    requestedAt: dateTime,
    startedAt: nullableDateTime,
    finishedAt: nullableDateTime,
    reason: nullableString,
    counts: object({
      customersWritten: { type: 'integer', minimum: 0 },
      customersFailed: { type: 'integer', minimum: 0 },
      subscriptionsWritten: { type: 'integer', minimum: 0 },
      subscriptionsFailed: {
        type: 'integer',
        minimum: 0,
        description: 'Subscriptions of failed customers found before the customer failed.',
      },
      resourcesWritten: { type: 'integer', minimum: 0 },
    }),
    invocations: {
      type: 'integer',
      minimum: 0,
      description: 'Invocations (time budgets) the run took so far.',
    },
  }),
  PartnerUsageSummaryResponse: object({ snapshot: ref('Snapshot'), data: ref('PartnerUsageSummary') }),
  CustomersResponse: object({
    snapshot: ref('Snapshot'),
    data: { type: 'array', items: ref('CustomerRecord') },
    continuationToken: ref('ContinuationToken'),
  }),
  CustomerUsageSummaryResponse: object({
    snapshot: ref('Snapshot'),
    data: {
      ...nullable(ref('CustomerUsageSummary')),
      description: 'Null: no usage reported for the customer.',
    },
  }),
  SubscriptionsResponse: object({
    snapshot: ref('Snapshot'),
    data: { type: 'array', items: ref('SubscriptionRecord') },
  }),
  SubscriptionResourcesResponse: object({ snapshot: ref('Snapshot'), data: ref('SubscriptionResources') }),
  HistoryResponse: object({
    snapshot: {
      ...nullable(ref('Snapshot')),
      description: 'The newest point of this page; null when the page is empty.',
    },
    data: { type: 'array', items: ref('HistoryPoint') },
    continuationToken: ref('ContinuationToken'),
  }),
  ContinuationToken: {
    type: ['string', 'null'],
    description:
      'Pass back as ?continuationToken= with the same route and filters for the next page; null on the last page.',
  },
  RunsResponse: object({ data: { type: 'array', items: ref('Run') } }),
  RunResponse: object({ data: ref('Run') }),
  Health: {
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ok', 'unhealthy'] },
      version: { type: 'string' },
      failed: { type: 'array', items: { type: 'string' } },
      checks: { type: 'object', additionalProperties: { type: 'object' } },
    },
    required: ['status', 'version', 'failed', 'checks'],
  },
};

const header = (description: string, required = false) => ({
  description,
  ...(required ? { required: true } : {}),
  schema: { type: 'string' },
});

const snapshotHeaders = (required: boolean) => ({
  'X-Snapshot-Run-Id': header('snapshot.runId (also for CSV).', required),
  'X-Snapshot-Taken-At': header('snapshot.takenAt (also for CSV).', required),
  'X-Snapshot-Stale': header('snapshot.stale (also for CSV).', required),
  'X-Billing-Period-Start': header('snapshot.billingPeriod.start, when known.'),
  'X-Billing-Period-End': header('snapshot.billingPeriod.end, when known.'),
});
const cachingHeaders = {
  ETag: header('Strong validator over the exact body; send it back in If-None-Match.', true),
  'Cache-Control': header(
    `private, max-age= seconds until the next scheduled snapshot, at most ${CACHE_CAP_SECONDS}.`,
    true,
  ),
  Vary: header('Accept.', true),
};
const pagingHeaders = {
  'X-Continuation-Token': header('The next page token, absent on the last page (also for CSV).'),
  Link: header('`<path?…&continuationToken=…>; rel="next"` when there is a next page.'),
};

const errorContent = { 'application/json': { schema: ref('Error') } };
const error = (description: string) => ({ description, content: errorContent });

const commonErrors = {
  '400': error('Invalid id, query parameter, limit or continuation token.'),
  '401': { description: 'Missing or wrong key (answered by the Functions host, no body).' },
  '405': {
    description: 'Method not served on this route; `Allow` lists the ones that are.',
    headers: { Allow: header('Allowed methods.', true) },
    content: errorContent,
  },
  '406': error('Accept admits none of the offered media types.'),
  '500': error('Unexpected failure (logged).'),
  '503': {
    description:
      'Table Storage is down or not answering (`StorageUnavailable`); retry after `Retry-After` seconds.',
    headers: { 'Retry-After': header('Seconds to wait before retrying.', true) },
    content: errorContent,
  },
};

function usageGet(options: {
  operationId: string;
  summary: string;
  description?: string;
  schema: string;
  parameters?: unknown[];
  csv?: boolean;
  paged?: boolean;
  /** History: the snapshot headers are absent on an empty page, whose snapshot is null. */
  snapshotMayBeNull?: boolean;
  notFound: string;
}): Schema {
  const headers = {
    ...cachingHeaders,
    ...snapshotHeaders(!options.snapshotMayBeNull),
    ...(options.paged ? pagingHeaders : {}),
  };
  const content: Record<string, unknown> = { 'application/json': { schema: ref(options.schema) } };
  if (options.csv) {
    content['text/csv'] = {
      schema: { type: 'string', description: 'RFC 4180 CSV with a header row; same column names as JSON.' },
    };
  }
  return {
    operationId: options.operationId,
    summary: options.summary,
    ...(options.description ? { description: options.description } : {}),
    tags: ['usage'],
    security: [{ functionKey: [] }],
    parameters: [...(options.parameters ?? []), { $ref: '#/components/parameters/IfNoneMatch' }],
    responses: {
      '200': { description: 'OK', headers, content },
      '304': { description: 'Not modified: If-None-Match matched the current ETag.', headers },
      '404': error(options.notFound),
      ...commonErrors,
    },
  };
}

const p = (name: string) => ({ $ref: `#/components/parameters/${name}` });

const parameters: Record<string, unknown> = {
  customerId: {
    name: 'customerId',
    in: 'path',
    required: true,
    description: 'Customer tenant id (GUID, any case).',
    schema: guid,
  },
  subscriptionId: {
    name: 'subscriptionId',
    in: 'path',
    required: true,
    description: 'Subscription id (GUID, any case).',
    schema: guid,
  },
  limit: {
    name: 'limit',
    in: 'query',
    description: `Page size, 1-${MAX_LIMIT}.`,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  },
  continuationToken: {
    name: 'continuationToken',
    in: 'query',
    description: 'From the previous page; only valid with the same route, ids and filters.',
    schema: { type: 'string', maxLength: 4096 },
  },
  format: {
    name: 'format',
    in: 'query',
    description: 'Overrides the Accept header.',
    schema: { type: 'string', enum: ['json', 'csv'] },
  },
  from: {
    name: 'from',
    in: 'query',
    description: 'Earliest snapshot time, ISO-8601: a date (start of that UTC day) or a date-time with zone.',
    schema: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
  },
  to: {
    name: 'to',
    in: 'query',
    description: 'Latest snapshot time, ISO-8601: a date (end of that UTC day) or a date-time with zone.',
    schema: { type: 'string', anyOf: [{ format: 'date' }, { format: 'date-time' }] },
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    description: 'ETag(s) of a copy the caller holds; 304 when current.',
    schema: { type: 'string' },
  },
};

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Partner Usage Cache API',
      version: APP_VERSION,
      description:
        'Azure usage of a CSP partner and its customers, as cached from Partner Center by periodic ' +
        'snapshots. Usage routes take a function key in `x-functions-key`; snapshot control takes the ' +
        'master key. Every route also answers HEAD (as GET) and OPTIONS, and any other method with 405 ' +
        'and `Allow`. Unknown routes get a JSON 404 (`RouteNotFound`). Amounts are exact decimal strings.',
    },
    servers: [{ url: '/api' }],
    tags: [
      { name: 'usage', description: 'Cached usage data.' },
      { name: 'snapshots', description: 'Snapshot runs (admin).' },
      { name: 'meta', description: 'Health and this document.' },
    ],
    paths: {
      '/v1/partner/usage-summary': {
        get: usageGet({
          operationId: 'getPartnerUsageSummary',
          summary: 'The latest partner usage summary.',
          schema: 'PartnerUsageSummaryResponse',
          notFound: 'NoSnapshotYet: no snapshot has completed.',
        }),
      },
      '/v1/customers': {
        get: usageGet({
          operationId: 'listCustomers',
          summary: "Every customer's latest monthly usage record, paged.",
          schema: 'CustomersResponse',
          csv: true,
          paged: true,
          parameters: [
            p('limit'),
            p('continuationToken'),
            { name: 'overBudget', in: 'query', schema: { type: 'boolean' }, description: 'true or false.' },
            {
              name: 'isUpgraded',
              in: 'query',
              schema: { type: 'boolean' },
              description: 'true: Azure plan.',
            },
            {
              name: 'currency',
              in: 'query',
              description: 'ISO currency code (EUR) or pricing locale (fr-FR), case-insensitive.',
              schema: {
                type: 'string',
                pattern: '^([A-Za-z]{3}|[A-Za-z]{2,3}(-[A-Za-z]{4})?-([A-Za-z]{2}|\\d{3}))$',
              },
            },
            p('format'),
          ],
          notFound: 'NoSnapshotYet: no snapshot has completed.',
        }),
      },
      '/v1/customers/{customerId}/usage-summary': {
        get: usageGet({
          operationId: 'getCustomerUsageSummary',
          summary: "A customer's latest usage summary.",
          schema: 'CustomerUsageSummaryResponse',
          parameters: [p('customerId')],
          notFound: 'CustomerNotFound, or CustomerNotSnapshotted when it is known but not snapshotted yet.',
        }),
      },
      '/v1/customers/{customerId}/subscriptions': {
        get: usageGet({
          operationId: 'listCustomerSubscriptions',
          summary: "The latest usage record of each of the customer's subscriptions.",
          schema: 'SubscriptionsResponse',
          parameters: [p('customerId')],
          notFound: 'CustomerNotFound or CustomerNotSnapshotted.',
        }),
      },
      '/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources': {
        get: usageGet({
          operationId: 'listSubscriptionResources',
          summary: "A subscription's latest resource usage records.",
          schema: 'SubscriptionResourcesResponse',
          csv: true,
          parameters: [p('customerId'), p('subscriptionId'), p('format')],
          notFound:
            'CustomerNotFound (the customer is unknown), SubscriptionNotFound or SubscriptionNotSnapshotted.',
        }),
      },
      '/v1/customers/{customerId}/history': {
        get: usageGet({
          operationId: 'getCustomerHistory',
          summary: "The customer's total per snapshot, newest first, paged.",
          schema: 'HistoryResponse',
          paged: true,
          snapshotMayBeNull: true,
          parameters: [p('customerId'), p('from'), p('to'), p('limit'), p('continuationToken')],
          notFound: 'CustomerNotFound or CustomerNotSnapshotted.',
        }),
      },
      '/v1/customers/{customerId}/subscriptions/{subscriptionId}/history': {
        get: usageGet({
          operationId: 'getSubscriptionHistory',
          summary: "The subscription's total per snapshot, newest first, paged.",
          schema: 'HistoryResponse',
          paged: true,
          snapshotMayBeNull: true,
          parameters: [
            p('customerId'),
            p('subscriptionId'),
            p('from'),
            p('to'),
            p('limit'),
            p('continuationToken'),
          ],
          notFound:
            'CustomerNotFound (the customer is unknown), SubscriptionNotFound or SubscriptionNotSnapshotted.',
        }),
      },
      '/v1/snapshots': {
        get: {
          operationId: 'listSnapshotRuns',
          summary: 'Recent snapshot runs and their state, newest first.',
          tags: ['snapshots'],
          security: [{ masterKey: [] }],
          parameters: [
            {
              name: 'limit',
              in: 'query',
              description: `How many runs, 1-${MAX_RUNS}.`,
              schema: { type: 'integer', minimum: 1, maximum: MAX_RUNS, default: 20 },
            },
          ],
          responses: {
            '200': { description: 'OK', content: { 'application/json': { schema: ref('RunsResponse') } } },
            ...commonErrors,
          },
        },
        post: {
          operationId: 'requestSnapshotRun',
          summary: 'Ask for a snapshot run now.',
          tags: ['snapshots'],
          security: [{ masterKey: [] }],
          responses: {
            '202': {
              description: 'Queued; data.runId identifies the run in GET /v1/snapshots.',
              content: { 'application/json': { schema: ref('RunResponse') } },
            },
            '409': error('RunAlreadyActive: a run is queued or running.'),
            ...commonErrors,
          },
        },
      },
      '/v1/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document.',
          tags: ['meta'],
          security: [],
          responses: {
            '200': {
              description: 'OpenAPI 3.1',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            '304': { description: 'Not modified.' },
          },
        },
      },
      '/health': {
        get: {
          operationId: 'getHealth',
          summary: 'Whether Table Storage and the secret store answer.',
          tags: ['meta'],
          security: [],
          responses: {
            '200': { description: 'Healthy', content: { 'application/json': { schema: ref('Health') } } },
            '503': { description: 'Unhealthy', content: { 'application/json': { schema: ref('Health') } } },
          },
        },
      },
    },
    components: {
      schemas,
      parameters,
      securitySchemes: {
        functionKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'A function or host key (also accepted as ?code=).',
        },
        masterKey: {
          type: 'apiKey',
          in: 'header',
          name: 'x-functions-key',
          description: 'The host master key (admin level).',
        },
      },
    },
  };
}
