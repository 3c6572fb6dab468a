import { endpoint, type ApiHandler } from '../endpoint';
import { ifNoneMatchHits, strongETag } from '../etag';
import { openApiDocument, type DocumentedRoute } from '../openapi';
import { readQuery } from '../validation';
import { QUERIES } from '../schemas';

/** GET /api/v1/openapi.json: the OpenAPI 3.1 description of the routes of the route table. */
export function createOpenApiHandler(routes: readonly DocumentedRoute[]): ApiHandler {
  const body = JSON.stringify(openApiDocument(routes));
  const etag = strongETag(body);
  return endpoint({
    GET: async (request) => {
      readQuery(request.query, QUERIES.none);
      const headers = { ETag: etag, 'Cache-Control': 'public, max-age=3600' };
      if (ifNoneMatchHits(request.headers.get('if-none-match'), etag)) return { status: 304, headers };
      return {
        status: 200,
        headers: { ...headers, 'Content-Type': 'application/json; charset=utf-8' },
        body,
      };
    },
  });
}
