import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Link } from './records';

export const CONTINUATION_HEADER = 'MS-ContinuationToken';

export type TokenCheck = { ok: true; offset: number } | { ok: false; reason: string };

/**
 * Opaque continuation tokens: an offset and the billing period it was cut in, signed with a
 * per-server secret over the collection they belong to. A forged token, one from another
 * collection or another sandbox, or one from a past billing period is refused.
 */
export class ContinuationTokens {
  private readonly secret = randomBytes(32);

  issue(collection: string, offset: number, periodStart: number): string {
    const payload = Buffer.from(`${offset}:${periodStart}`).toString('base64url');
    return `${payload}.${this.sign(collection, payload)}`;
  }

  read(collection: string, token: string, periodStart: number): TokenCheck {
    const [payload, signature, extra] = token.split('.');
    if (!payload || !signature || extra !== undefined) return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.sign(collection, payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given))
      return { ok: false, reason: 'signature mismatch' };
    const [offset, period] = Buffer.from(payload, 'base64url').toString().split(':').map(Number);
    if (period !== periodStart) return { ok: false, reason: 'stale (issued in an earlier billing period)' };
    return { ok: true, offset };
  }

  private sign(collection: string, payload: string): string {
    return createHmac('sha256', this.secret)
      .update(`${collection}\n${payload}`)
      .digest('base64url')
      .slice(0, 32);
  }
}

/** `links.next` as Partner Center writes it: a URI relative to /v1 and the token as a header. */
export function nextLink(path: string, pageSize: number, token: string): Link {
  return {
    uri: `${path}?size=${pageSize}&seekOperation=Next`,
    method: 'GET',
    headers: [{ key: CONTINUATION_HEADER, value: token }],
  };
}
