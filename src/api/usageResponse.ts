import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import type { Settings } from '../config/settings';
import type { SnapshotInfo, UsageReader } from '../domain/usageReader';
import { usageCacheControl } from './cacheControl';
import { processSigningKeys, type SigningKeySource } from '../secrets/signingKeys';
import { ContinuationTokens } from './continuationToken';
import { ifNoneMatchHits, strongETag } from './etag';
import type { Format } from './negotiation';
import { snapshotMeta, type SnapshotMeta, type UsageEnvelope } from './representation';

/** What every usage handler factory takes. */
export interface UsageApiDependencies {
  reader: UsageReader;
  settings: Pick<Settings, 'api' | 'snapshot' | 'storage'>;
  /** Continuation-token signing keys (the secret store's); a key of this process alone when absent. */
  tokenKeys?: SigningKeySource;
  /** Defaults to the system clock; tests pin it. */
  clock?: () => Date;
}

/** Per-handler helpers built once from the dependencies. */
export interface UsageApi {
  reader: UsageReader;
  tokens: ContinuationTokens;
  now(): Date;
  meta(info: SnapshotInfo, fallback?: { billingStartDate?: string; billingEndDate?: string }): SnapshotMeta;
  respond(request: HttpRequest, representation: Representation): HttpResponseInit;
}

export interface Representation {
  envelope: UsageEnvelope<unknown>;
  format?: Format;
  /** The CSV text when format is csv. */
  csv?: () => string;
  /** File name offered for a CSV download, without extension. */
  csvName?: string;
}

export function usageApi(deps: UsageApiDependencies): UsageApi {
  const clock = deps.clock ?? (() => new Date());
  const tokens = new ContinuationTokens(deps.tokenKeys ?? processSigningKeys());
  return {
    reader: deps.reader,
    tokens,
    now: clock,
    meta: (info, fallback) => snapshotMeta(info, clock(), deps.settings.api.staleAfterMs, fallback),
    respond: (request, representation) =>
      respond(request, representation, usageCacheControl(deps.settings.snapshot.schedule, clock())),
  };
}

const RUN_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/**
 * 200 with a strong ETag over the exact bytes, or 304 when If-None-Match already has them.
 * Snapshot facts are repeated in headers so CSV downloads carry them too; paged responses add a
 * `Link: <…>; rel="next"` next to the body's continuationToken.
 */
function respond(
  request: HttpRequest,
  representation: Representation,
  cacheControl: string,
): HttpResponseInit {
  const { envelope } = representation;
  const csv = representation.format === 'csv' && representation.csv;
  const body = csv ? csv() : JSON.stringify(envelope);
  const etag = strongETag(body);
  const headers: Record<string, string> = {
    ETag: etag,
    'Cache-Control': cacheControl,
    Vary: 'Accept',
  };
  const snapshot = envelope.snapshot;
  if (snapshot) {
    // Stored text, never a caller's, but checked anyway: a header carries only what it promises.
    if (RUN_ID.test(snapshot.runId)) headers['X-Snapshot-Run-Id'] = snapshot.runId;
    if (ISO_INSTANT.test(snapshot.takenAt)) headers['X-Snapshot-Taken-At'] = snapshot.takenAt;
    headers['X-Snapshot-Stale'] = String(snapshot.stale);
    if (snapshot.billingPeriod?.start) headers['X-Billing-Period-Start'] = snapshot.billingPeriod.start;
    if (snapshot.billingPeriod?.end) headers['X-Billing-Period-End'] = snapshot.billingPeriod.end;
  }
  if (envelope.continuationToken) {
    headers['X-Continuation-Token'] = envelope.continuationToken;
    headers.Link = `<${nextUrl(request, envelope.continuationToken)}>; rel="next"`;
  }
  if (ifNoneMatchHits(request.headers.get('if-none-match'), etag)) {
    return { status: 304, headers };
  }
  headers['Content-Type'] = csv ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
  if (csv) {
    const name = (representation.csvName ?? 'usage').replace(/[^A-Za-z0-9._-]/g, '_');
    headers['Content-Disposition'] = `attachment; filename="${name}.csv"`;
  }
  return { status: 200, headers, body };
}

/** The same request with the new token; path-relative so it holds behind any front door. */
function nextUrl(request: HttpRequest, token: string): string {
  const url = new URL(request.url);
  url.searchParams.delete('code');
  url.searchParams.set('continuationToken', token);
  return `${url.pathname}${url.search}`;
}
