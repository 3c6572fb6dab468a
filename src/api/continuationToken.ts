import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Settings } from '../config/settings';
import { ApiError } from './errors';

/**
 * Continuation tokens handed to callers wrap the store's own token with a fingerprint of the
 * query that produced it (route, customer/subscription ids, normalized filters), and are signed
 * with HMAC-SHA256:
 *
 *   base64url(JSON {v, f: fingerprint, t: storeToken}) "." base64url(HMAC(key, first part))
 *
 * On the next request the fingerprint must equal the current request's, so a token from one
 * customer's history cannot page another customer's, nor a different filter. That check, and the
 * store scoping every query to the partition named by the (validated) route ids, is what keeps a
 * caller inside the query they asked for; the signature makes garbled or hand-edited tokens fail
 * fast with 400 before the store ever sees them.
 *
 * The key is derived, not configured: SHA-256 of the storage target (connection string or table
 * endpoint) and table prefix. Every instance of one deployment derives the same key, so tokens
 * survive scale-out and restarts, and another deployment's tokens do not verify here. Locally the
 * connection string holds the account key, so the key is secret there; in Azure the endpoint is
 * not a secret, so the signature is integrity, not authentication, and the fingerprint check
 * above carries the guarantee.
 */

/** What a token is bound to. `limit` is not: a caller may change page size between pages. */
export interface TokenBinding {
  route: string;
  ids: readonly string[];
  query: Readonly<Record<string, string | undefined>>;
}

const MAX_TOKEN_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function continuationTokenKey(settings: Pick<Settings, 'storage'>): Buffer {
  const target =
    settings.storage.kind === 'connectionString'
      ? settings.storage.connectionString
      : settings.storage.tableEndpoint;
  return createHash('sha256')
    .update('partner-usage-cache/continuation-token/v1\n')
    .update(target)
    .update('\n')
    .update(settings.storage.tablePrefix)
    .digest();
}

export function fingerprint(binding: TokenBinding): string {
  const query = Object.keys(binding.query)
    .sort()
    .filter((name) => binding.query[name] !== undefined)
    .map((name) => [name, binding.query[name]]);
  const canonical = JSON.stringify([binding.route, binding.ids, query]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export class ContinuationTokens {
  constructor(private readonly key: Buffer) {}

  wrap(storeToken: string | undefined, binding: TokenBinding): string | undefined {
    if (storeToken === undefined) return undefined;
    const payload = Buffer.from(JSON.stringify({ v: 1, f: fingerprint(binding), t: storeToken })).toString(
      'base64url',
    );
    return `${payload}.${this.sign(payload)}`;
  }

  /** The store's token, or 400 InvalidContinuationToken for anything this API did not issue for this query. */
  unwrap(token: string | undefined, binding: TokenBinding): string | undefined {
    if (token === undefined) return undefined;
    const invalid = (why: string) => new ApiError('InvalidContinuationToken', `continuationToken ${why}`);
    if (token.length > MAX_TOKEN_LENGTH) throw invalid('is too long');
    const [payload, signature, ...rest] = token.split('.');
    if (rest.length > 0 || !payload || !signature || !BASE64URL.test(payload) || !BASE64URL.test(signature)) {
      throw invalid('is not one this API issued');
    }
    const expected = Buffer.from(this.sign(payload));
    const presented = Buffer.from(signature);
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) {
      throw invalid('is not one this API issued');
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid('is not one this API issued');
    }
    const body = decoded as { v?: unknown; f?: unknown; t?: unknown } | null;
    if (!body || body.v !== 1 || typeof body.f !== 'string' || typeof body.t !== 'string') {
      throw invalid('is not one this API issued');
    }
    if (body.f !== fingerprint(binding)) {
      throw invalid('belongs to a different query; send the same route, ids and filters it came with');
    }
    return body.t;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
