import type { HttpRequest } from '@azure/functions';
import { ApiError } from './errors';

/** The largest request body a route reads (both of them take a one-field JSON object). */
const MAX_BODY_CHARS = 1024;

/**
 * A request's JSON object body, strictly: `Content-Type: application/json` (else 415), at most
 * MAX_BODY_CHARS characters, JSON, and an object (else 400 InvalidBody naming `example`). What
 * its fields must be is the route's to check.
 */
export async function readJsonObject(
  request: HttpRequest,
  example: string,
): Promise<Record<string, unknown>> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError('UnsupportedMediaType', 'The body must be JSON (Content-Type: application/json)');
  }
  const text = await request.text();
  if (text.length > MAX_BODY_CHARS)
    throw new ApiError('InvalidBody', `The body is longer than ${MAX_BODY_CHARS} characters`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError('InvalidBody', `The body is not JSON; send ${example}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ApiError('InvalidBody', `The body must be a JSON object: ${example}`);
  return body as Record<string, unknown>;
}
