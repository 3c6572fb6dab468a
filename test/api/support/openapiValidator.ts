import Ajv2020 from 'ajv/dist/2020';
import { HTTP_FUNCTIONS } from '../../../src/functions/httpFunctions';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../../src/api/openapi';

export type Operation = {
  'x-csv-columns'?: string[];
  security?: Array<Record<string, unknown>>;
  parameters?: Array<{ $ref?: string; name?: string; in?: string }>;
  responses: Record<string, { headers?: Record<string, unknown>; content?: Record<string, unknown> }>;
};

export const doc = openApiDocument(HTTP_FUNCTIONS) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; parameters: Record<string, { name: string; in: string }> };
};

/** JSON Schema 2020-12 (the OAS 3.1 dialect) with formats; the document's own keywords are ignored. */
export const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components', 'jsonSchemaDialect']);
ajv.addSchema(doc, 'openapi.json');

const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export interface ResponseLike {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * The response's status is documented for the operation, its required headers are present, its
 * media type is documented and its body validates against the documented schema.
 */
export function expectConforms(path: string, method: string, res: ResponseLike): void {
  const operation = doc.paths[path]?.[method];
  if (!operation) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
  const documented = operation.responses[String(res.status)];
  if (!documented)
    throw new Error(`${method.toUpperCase()} ${path} answered ${res.status}, which is not documented`);
  const headers = (documented.headers ?? {}) as Record<string, { required?: boolean }>;
  for (const [name, spec] of Object.entries(headers)) {
    if (!spec.required) continue;
    expect({ header: name, present: res.headers.has(name) }).toEqual({ header: name, present: true });
  }
  if (res.status === 304 || res.text === '') return;
  const mediaType = (res.headers.get('content-type') ?? '').split(';')[0];
  if (mediaType === 'text/csv' && res.status === 200) {
    // CSV is documented as the columns the operation lists, so that the JSON 200 stays one type.
    const columns = operation['x-csv-columns'];
    if (!columns) throw new Error(`${method.toUpperCase()} ${path} answered CSV, which is not documented`);
    expect(res.text.split('\r\n')[0]).toBe(columns.join(','));
    return;
  }
  expect(Object.keys(documented.content ?? {})).toContain(mediaType);
  const schemaRef = `openapi.json#/${pointer('paths', path, method, 'responses', String(res.status), 'content', mediaType, 'schema')}`;
  const validate = ajv.getSchema(schemaRef);
  if (!validate) throw new Error(`no schema at ${schemaRef}`);
  const body: unknown = mediaType === 'application/json' ? JSON.parse(res.text) : res.text;
  if (!validate(body)) {
    throw new Error(`${method.toUpperCase()} ${path} ${res.status}: ${ajv.errorsText(validate.errors)}`);
  }
}
