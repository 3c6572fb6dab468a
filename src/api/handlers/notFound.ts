import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ApiError, errorResponse, quote } from '../errors';

/** Catch-all under /api: every unknown route, any method, gets the JSON 404 body. */
export function createNotFoundHandler(): (request: HttpRequest) => Promise<HttpResponseInit> {
  return async (request) => {
    const path = new URL(request.url).pathname;
    return errorResponse(
      new ApiError('RouteNotFound', `No route ${quote(path, 120)}; see /api/v1/openapi.json for the routes`),
    );
  };
}
