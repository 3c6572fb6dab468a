import { z } from 'zod';
import { APP_VERSION } from '../version';
import { CACHE_CAP_SECONDS } from './cacheControl';
import { components, guid as guidSchema, resourceGroupName } from './schemas';

/**
 * The OpenAPI 3.1 description of every route the app registers, with a JSON Schema (2020-12) for
 * every body. The paths are read from the route table (each entry's `document`, its route and its
 * auth level); the builders below keep the operations short. test/api/openapi.test.ts holds the
 * app to it: each registered route is documented, and real responses validate against the schemas. Objects are closed
 * (`additionalProperties: false`) so a field added to a response without documenting it fails.
 */

type Schema = Record<string, unknown>;

/** A reference to a component schema of src/api/schemas.ts, by name. */
export const schemaRef = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
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

const errorContent = { 'application/json': { schema: schemaRef('Error') } };
/** A documented error answer: the JSON error body. */
export const errorAnswer = (description: string) => ({ description, content: errorContent });

/** The errors every API route can answer. */
export const COMMON_ERRORS = {
  '400': errorAnswer('Invalid id, query parameter, limit or continuation token.'),
  '401': { description: 'Missing or wrong key (answered by the Functions host, no body).' },
  '405': {
    description: 'Method not served on this route; `Allow` lists the ones that are.',
    headers: { Allow: header('Allowed methods.', true) },
    content: errorContent,
  },
  '406': errorAnswer('Accept admits none of the offered media types.'),
  '500': errorAnswer('Unexpected failure (logged).'),
  '503': {
    description:
      'Table Storage is down or not answering (`StorageUnavailable`); retry after `Retry-After` seconds.',
    headers: { 'Retry-After': header('Seconds to wait before retrying.', true) },
    content: errorContent,
  },
};

/** A usage read: JSON (and CSV when it has columns), ETag and 304, the snapshot headers. */
export function usageGet(options: {
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
  /** Cache-Control's description, when the route does not cache until the next snapshot. */
  cacheControl?: string;
}): Schema {
  const headers = {
    ...cachingHeaders,
    ...(options.cacheControl ? { 'Cache-Control': header(options.cacheControl, true) } : {}),
    ...snapshotHeaders(!options.snapshotMayBeNull),
    ...(options.paged ? pagingHeaders : {}),
  };
  const content: Record<string, unknown> = { 'application/json': { schema: schemaRef(options.schema) } };
  return {
    operationId: options.operationId,
    summary: options.summary,
    ...(options.description ? { description: options.description } : {}),
    tags: ['usage'],
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
      '404': errorAnswer(options.notFound),
      ...COMMON_ERRORS,
    },
  };
}

/** A path parameter declared once in the document's components (customerId, subscriptionId). */
export const pathParameter = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** A route's query parameters, from its zod definition (QUERIES in src/api/schemas.ts). */
export function queryParameters(schema: z.ZodObject): Schema[] {
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
  resourceGroup: {
    name: 'resourceGroup',
    in: 'path',
    required: true,
    description: "Resource group name (Azure's rule: 1-90 letters, digits, `_ ( ) . -`), any case.",
    schema: jsonSchema(resourceGroupName),
  },
  IfNoneMatch: {
    name: 'If-None-Match',
    in: 'header',
    description: 'ETag(s) of a copy the caller holds; 304 when current.',
    schema: { type: 'string' },
  },
};

/** An OpenAPI operation object. */
export type Operation = Record<string, unknown>;
type DocumentedMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** What the document reads from a route table entry (src/functions/httpFunctions.ts). */
export interface DocumentedRoute {
  /** Below the route prefix, as registered: `v1/customers/{customerId}`. */
  route: string;
  authLevel: 'anonymous' | 'function' | 'admin';
  /** The route's operations; a route without them (the catch-all 404) is not in the document. */
  document?: Partial<Record<DocumentedMethod, Operation>>;
}

/** The security requirement an auth level means: the host checks it, the document says it. */
const SECURITY: Record<DocumentedRoute['authLevel'], unknown[]> = {
  anonymous: [],
  function: [{ functionKey: [] }],
  admin: [{ masterKey: [] }],
};

/**
 * One path item per route. Several entries may share a route when their methods differ in auth
 * level (a function-level GET and an admin PUT): their operations merge into one path item, each
 * with the security of its own entry.
 */
function documentedPaths(routes: readonly DocumentedRoute[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { route, authLevel, document } of routes) {
    if (!document) continue;
    const item = (paths[`/${route}`] ??= {});
    for (const [method, operation] of Object.entries(document)) {
      if (item[method]) throw new Error(`${method.toUpperCase()} /${route} is documented twice`);
      item[method] = { ...operation, security: SECURITY[authLevel] };
    }
  }
  return paths;
}

/** The document for these routes: each entry of the route table that carries `document`. */
export function openApiDocument(routes: readonly DocumentedRoute[]): Record<string, unknown> {
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
      {
        name: 'budgets',
        description: 'Changing spending budgets in Partner Center, and their audit trail (admin).',
      },
      { name: 'meta', description: 'Health and this document.' },
    ],
    paths: documentedPaths(routes),
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
