import { createHash } from 'node:crypto';

/** A strong ETag over the exact bytes sent, so JSON and CSV of the same data differ, as they must. */
export function strongETag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/**
 * RFC 9110 If-None-Match: `*`, or a comma-separated list of entity tags compared weakly
 * (`W/"x"` matches `"x"`). Malformed members are ignored rather than failing the request.
 */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (header === null) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.replace(/^W\//, '');
  const wanted = opaque(etag);
  const tags = header.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return tags.some((tag) => opaque(tag) === wanted);
}
