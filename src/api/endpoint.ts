import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { errorCode } from '../domain/errors';
import { contextLogger } from '../observability/logger';
import { isStorageUnavailable } from '../storage/errors';
import { ApiError, errorResponse, isApiError } from './errors';

export type ApiHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * Every API route is registered for all of these, so that a wrong method reaches the handler and
 * gets 405 with `Allow`, in Azure as locally (the host itself would answer a bare 404).
 */
export const ALL_METHODS = [
  ...['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
  // WebDAV verbs that clients and scanners send: the host matches registered method names as
  // text, so these get the same JSON 405 (the library's HttpMethod type lists only HTTP's own).
  // Not TRACE/CONNECT: the library builds a fetch Request, which refuses them, so a handler
  // could never run; unregistered, they stay the host's bare 404 rather than a failed invocation.
  ...['PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH'],
] as HttpMethod[];

/** What a 503 StorageUnavailable asks the caller to wait before trying again. */
const STORAGE_RETRY_AFTER_SECONDS = 5;

type Served = Partial<Record<'GET' | 'POST' | 'PUT', ApiHandler>>;

/**
 * One route's methods: HEAD answers as GET without a body, OPTIONS lists what is allowed, any
 * other method is 405 with `Allow`. Caller errors become their JSON error; Table Storage down or
 * not answering is 503 StorageUnavailable with `Retry-After`; anything else is logged and answered
 * with a bare 500 InternalError that says nothing about the cause. `servedElsewhere` names the
 * methods another function of the same route serves (at another auth level), for `Allow`.
 */
export function endpoint(
  served: Served,
  options: { servedElsewhere?: ReadonlyArray<keyof Served> } = {},
): ApiHandler {
  const has = (method: keyof Served) =>
    served[method] !== undefined || options.servedElsewhere?.includes(method);
  const allow = [
    ...(has('GET') ? ['GET', 'HEAD'] : []),
    ...(has('POST') ? ['POST'] : []),
    ...(has('PUT') ? ['PUT'] : []),
    'OPTIONS',
  ].join(', ');
  return async (request, context) => {
    const method = request.method.toUpperCase();
    try {
      if (method === 'OPTIONS') {
        return { status: 204, headers: { Allow: allow, 'Cache-Control': 'no-store' } };
      }
      const handler = method === 'HEAD' ? served.GET : served[method as keyof Served];
      if (!handler) {
        throw new ApiError('MethodNotAllowed', `${method} is not allowed on this route; use ${allow}`, {
          Allow: allow,
        });
      }
      const response = await handler(request, context);
      return method === 'HEAD' ? { ...response, body: undefined, jsonBody: undefined } : response;
    } catch (error) {
      return failure(error, context);
    }
  };
}

export function failure(error: unknown, context: InvocationContext): HttpResponseInit {
  if (isApiError(error)) return errorResponse(error);
  // The store's own coded errors that a caller can act on.
  const code = errorCode(error);
  if (code === 'RunAlreadyActive') {
    return errorResponse(
      new ApiError('RunAlreadyActive', 'A snapshot run is already queued or running; try again when it ends'),
    );
  }
  if (code === 'InvalidContinuationToken') {
    return errorResponse(
      new ApiError('InvalidContinuationToken', 'continuationToken is not one this API issued'),
    );
  }
  if (isStorageUnavailable(error)) {
    contextLogger(context).warn('Table Storage unavailable', { error, function: context.functionName });
    return errorResponse(
      new ApiError('StorageUnavailable', 'The usage store is not answering; try again shortly', {
        'Retry-After': String(STORAGE_RETRY_AFTER_SECONDS),
      }),
    );
  }
  contextLogger(context).error('API request failed', { error, function: context.functionName });
  return errorResponse(new ApiError('InternalError', 'The request failed; it has been logged'));
}
