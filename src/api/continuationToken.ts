import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { SigningKeys, SigningKeySource } from '../secrets/signingKeys';
import { ApiError } from './errors';

/**
 * Continuation tokens handed to callers wrap the store's own token with a fingerprint of the
 * query that produced it (route, customer/subscription ids, normalized filters) and an expiry,
 * and are signed with HMAC-SHA256 under a secret key from the secret store:
 *
 *   base64url(JSON {v, f: fingerprint, x: expiry, t: storeToken}) "." base64url(HMAC(key, first part))
 *
 * The key is a random secret per deployment (see src/secrets/signingKeys.ts), so a token cannot
 * be made from public values: everything inside one (the store's position, and for the customers
 * list the run being paged and its time) is what this API wrote. On the next request the
 * fingerprint must equal the current request's, so a token from one customer's history cannot page
 * another customer's, nor a different filter; a list token stays on the run it was issued for.
 * Tokens expire after `TOKEN_LIFETIME_MS`, which also bounds a key rotation's overlap window.
 */

/** What a token is bound to. `limit` is not: a caller may change page size between pages. */
export interface TokenBinding {
  route: string;
  ids: readonly string[];
  query: Readonly<Record<string, string | undefined>>;
}

/** How long a token pages on; a rotation keeps the old key at least this long (docs/security.md). */
export const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;
const MAX_TOKEN_LENGTH = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function fingerprint(binding: TokenBinding): string {
  const query = Object.keys(binding.query)
    .sort()
    .filter((name) => binding.query[name] !== undefined)
    .map((name) => [name, binding.query[name]]);
  const canonical = JSON.stringify([binding.route, binding.ids, query]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

export class ContinuationTokens {
  constructor(
    private readonly keys: SigningKeySource,
    private readonly now: () => number = Date.now,
  ) {}

  async wrap(storeToken: string | undefined, binding: TokenBinding): Promise<string | undefined> {
    if (storeToken === undefined) return undefined;
    const body = { v: 2, f: fingerprint(binding), x: this.now() + TOKEN_LIFETIME_MS, t: storeToken };
    const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${payload}.${sign((await this.keys()).current, payload)}`;
  }

  /** The store's token, or 400 InvalidContinuationToken for anything this API did not issue for this query. */
  async unwrap(token: string | undefined, binding: TokenBinding): Promise<string | undefined> {
    if (token === undefined) return undefined;
    const invalid = (why: string) => new ApiError('InvalidContinuationToken', `continuationToken ${why}`);
    const notIssued = () => invalid('is not one this API issued');
    if (token.length > MAX_TOKEN_LENGTH) throw invalid('is too long');
    const [payload, signature, ...rest] = token.split('.');
    if (rest.length > 0 || !payload || !signature || !BASE64URL.test(payload) || !BASE64URL.test(signature)) {
      throw notIssued();
    }
    if (!signedByAny(await this.keys(), payload, signature)) throw notIssued();
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw notIssued();
    }
    const body = decoded as { v?: unknown; f?: unknown; x?: unknown; t?: unknown } | null;
    if (
      !body ||
      body.v !== 2 ||
      typeof body.f !== 'string' ||
      typeof body.x !== 'number' ||
      typeof body.t !== 'string'
    ) {
      throw notIssued();
    }
    if (body.f !== fingerprint(binding)) {
      throw invalid('belongs to a different query; send the same route, ids and filters it came with');
    }
    if (this.now() > body.x) throw invalid('has expired; start again from the first page');
    return body.t;
  }
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

function signedByAny(keys: SigningKeys, payload: string, signature: string): boolean {
  const presented = Buffer.from(signature);
  // Every accepted key is tried, so how long this takes does not say which one matched.
  let valid = false;
  for (const key of keys.accepted) {
    const expected = Buffer.from(sign(key, payload));
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) valid = true;
  }
  return valid;
}
