import { z } from 'zod';
import { APP_VERSION } from '../version';
import { CACHE_CAP_SECONDS } from './cacheControl';
import { CUSTOMER_COLUMNS, RESOURCE_COLUMNS } from './csv';
import { components, guid as guidSchema, QUERIES } from './schemas';

/**
 * The OpenAPI 3.1 description of every route the app registers, with a JSON Schema (2020-12) for
 * every body. test/api/openapi.test.ts holds the app to it: each registered route is here and each
 * path here is registered, and real responses validate against these schemas. Objects are closed
 * (`additionalProperties: false`) so a field added to a response without documenting it fails.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
/** A parameter's JSON Schema from its zod definition in src/api/schemas.ts. */
function jsonSchema(schema: z.ZodType, extra: Schema = {}): Schema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Schema;
  return { ...rest, ...extra };
}
const guid = jsonSchema(guidSchema);

/** The component schemas, generated from src/api/schemas.ts: one definition per shape. */
function componentSchemas(): Record<string, Schema> {
  const generated = z.toJSONSchema(components, {
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  return Object.fromEntries(
    Object.entries(generated).map(([name, schema]) => {
      // Each schema is embedded in the document, not a document of its own.
      const { $schema: _dialect, $id: _id, ...rest } = schema as Schema;
      return [name, rest];
    }),
  );
}

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
  /** The route also answers CSV (`?format=csv` or `Accept: text/csv`), with these columns. */
  csvColumns?: readonly string[];
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
  return {
    operationId: options.operationId,
    summary: options.summary,
    ...(options.description ? { description: options.description } : {}),
    tags: ['usage'],
    security: [{ functionKey: [] }],
    ...(options.csvColumns ? { 'x-csv-columns': [...options.csvColumns] } : {}),
    parameters: [...(options.parameters ?? []), { $ref: '#/components/parameters/IfNoneMatch' }],
    responses: {
      '200': {
        description: options.csvColumns
          ? `OK. With \`format=csv\` (or \`Accept: text/csv\`) the same data as RFC 4180 \`text/csv\`, one header row: ${options.csvColumns.join(', ')}.`
          : 'OK',
        headers,
        content,
      },
      '304': { description: 'Not modified: If-None-Match matched the current ETag.', headers },
      '404': error(options.notFound),
      ...commonErrors,
    },
  };
}

const p = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** A route's query parameters, from its zod definition (QUERIES in src/api/schemas.ts). */
function query(schema: z.ZodObject): Schema[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const { description, ...parameterSchema } = jsonSchema(field as z.ZodType);
    return { name, in: 'query', ...(description ? { description } : {}), schema: parameterSchema };
  });
}

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
          csvColumns: CUSTOMER_COLUMNS,
          paged: true,
          parameters: query(QUERIES.customers),
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
          csvColumns: RESOURCE_COLUMNS,
          parameters: [p('customerId'), p('subscriptionId'), ...query(QUERIES.resources)],
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
          parameters: [p('customerId'), ...query(QUERIES.history)],
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
          parameters: [p('customerId'), p('subscriptionId'), ...query(QUERIES.history)],
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
          parameters: query(QUERIES.runs),
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
      schemas: componentSchemas(),
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
