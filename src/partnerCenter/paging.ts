import { ResponseShapeError } from './errors';
import type { NextLink } from './schemas';

export interface PageRequest {
  /** Below the base URL, /v1 included: "/v1/customers/usagerecords". */
  path: string;
  /** Sent with the request, e.g. MS-ContinuationToken from links.next. */
  headers: Record<string, string>;
}

export interface Page<T> {
  items: T[];
  next: NextLink | undefined;
}

// Headers the client sets itself; a links.next cannot replace them.
const RESERVED = new Set([
  'authorization',
  'accept',
  'user-agent',
  'host',
  'content-length',
  'ms-requestid',
  'ms-correlationid',
]);

/**
 * The request `links.next` describes: its uri is relative to the base URL's /v1 (as Partner
 * Center writes them: "customers?size=100&seekOperation=Next"), and its headers (the continuation
 * token) go along. An absolute uri must point at the base URL's origin: the bearer token is never
 * sent anywhere else.
 */
export function nextPageRequest(baseUrl: string, next: NextLink): PageRequest {
  let path: string;
  if (/^[a-z][a-z0-9+.-]*:/i.test(next.uri)) {
    const url = new URL(next.uri);
    if (url.origin !== new URL(baseUrl).origin) {
      throw new ResponseShapeError('links.next.uri', 'points outside the Partner Center base URL');
    }
    path = `${url.pathname}${url.search}`;
  } else {
    const relative = next.uri.startsWith('/') ? next.uri : `/${next.uri}`;
    path = /^\/v1(\/|\?|$)/i.test(relative) ? relative : `/v1${relative}`;
  }
  const headers: Record<string, string> = {};
  for (const { key, value } of next.headers) {
    if (!RESERVED.has(key.toLowerCase())) headers[key] = value;
  }
  return { path, headers };
}

/**
 * Streams a collection's items page by page, following links.next until none remains. A page is
 * validated whole before its first item is yielded (no half-read garbage); one page is held at a
 * time; the next is fetched when the consumer asks for more, so a consumer that
 * stops early (break) fetches nothing further.
 */
export async function* paginate<T>(
  first: PageRequest,
  fetchPage: (request: PageRequest) => Promise<Page<T>>,
  baseUrl: string,
): AsyncGenerator<T, void, undefined> {
  const seen = new Set<string>();
  let request: PageRequest | undefined = first;
  while (request) {
    const page = await fetchPage(request);
    for (const item of page.items) yield item;
    if (!page.next) return;
    request = nextPageRequest(baseUrl, page.next);
    const key = `${request.path}\n${JSON.stringify(request.headers)}`;
    if (seen.has(key))
      throw new ResponseShapeError('links.next', 'repeats an earlier page (paging would never end)');
    seen.add(key);
  }
}
