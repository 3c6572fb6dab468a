import { randomUUID } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import { isLosslessNumber } from 'lossless-json';
import type { Settings } from '../config/settings';
import { isLoopbackHost } from '../config/settings';
import type { Logger } from '../observability/logger';
import { registerSecret } from '../observability/redact';
import type { TokenProvider } from '../partnerCenter/auth';
import { RequestAbortedError } from '../partnerCenter/errors';
import { parseJson, tryParseJson } from '../partnerCenter/json';
import { createRequestLimiter, type RequestLimiter } from '../partnerCenter/limiter';
import {
  DEFAULT_RETRY,
  loggedRetries,
  parseRetryAfter,
  retryOrThrow,
  withRetries,
  type AttemptOutcome,
  type RetryPolicy,
} from '../partnerCenter/retry';
import { createHttp, send, type Outcome } from '../partnerCenter/transport';
import { USER_AGENT } from '../version';
import { openStream, readSmallBody, typedBody } from './blobStream';
import {
  ExportExpiredError,
  GraphError,
  GraphNetworkError,
  GraphResponseShapeError,
  GraphTimeoutError,
  InsecureUrlError,
  InvalidExportRequestError,
} from './errors';
import {
  NO_DATA_AVAILABLE,
  type ExportBlob,
  type ExportBlobRef,
  type ExportBlobStream,
  type ExportManifest,
  type ExportOperation,
  type ExportRequest,
  type ExportStarted,
  type GraphCallOptions,
  type ManifestLocation,
  type SucceededOperation,
  type UsageExportClient,
} from './usageExportClient';

export interface UsageExportClientOptions {
  /** GRAPH_BASE_URL, and the Partner Center settings whose timeout, retries and pacing it shares. */
  settings: Pick<Settings, 'graph' | 'partnerCenter'>;
  /** App-only Graph tokens: a ClientCredentialsTokenProvider (./auth.ts). */
  tokens: TokenProvider;
  logger: Logger;
  http?: AxiosInstance;
  /** Overrides of the retry timing (tests shorten the waits); maxRetries comes from settings. */
  retry?: Partial<RetryPolicy>;
  random?: () => number;
}

const API = '/v1.0/reports/partners/billing';
const OPERATION_ID = /^[A-Za-z0-9._~-]{1,200}$/;

/**
 * The Graph usage export client of the process (create it once: it owns its rate limiter and
 * keep-alive connections). Same behaviour as the Partner Center client: every request is paced
 * by a limiter (PARTNER_CENTER_REQUESTS_PER_MINUTE / _MAX_CONCURRENCY, a limiter of its own),
 * times out after PARTNER_CENTER_TIMEOUT_SECONDS, is retried within bounds on 429 (Retry-After
 * honoured), 408, 5xx, network errors and timeouts, and re-authenticates once on a 401. The
 * bearer token goes to GRAPH_BASE_URL's origin only; blob requests carry the SAS, no token.
 */
export function createUsageExportClient(options: UsageExportClientOptions): UsageExportClient {
  return new HttpUsageExportClient(options);
}

interface JsonAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  requestId?: string;
}

class HttpUsageExportClient implements UsageExportClient {
  private readonly http: AxiosInstance;
  private readonly limiter: RequestLimiter;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly base: URL;

  constructor(private readonly options: UsageExportClientOptions) {
    const pc = options.settings.partnerCenter;
    this.http = options.http ?? createHttp();
    this.limiter = createRequestLimiter({
      requestsPerMinute: pc.requestsPerMinute,
      maxConcurrency: pc.maxConcurrency,
    });
    this.retry = { ...DEFAULT_RETRY, maxRetries: pc.maxRetries, ...options.retry };
    this.random = options.random ?? Math.random;
    this.base = checkedUrl(options.settings.graph.baseUrl, 'GRAPH_BASE_URL');
  }

  async startExport(request: ExportRequest, call: GraphCallOptions = {}): Promise<ExportStarted> {
    const attributeSet = request.attributeSet ?? 'full';
    let path: string;
    let body: string;
    if (request.kind === 'unbilled') {
      const currencyCode = request.currencyCode.trim().toUpperCase();
      if (!/^[A-Z]{3}$/.test(currencyCode))
        throw new InvalidExportRequestError('currencyCode must be three letters');
      if (request.billingPeriod !== 'current' && request.billingPeriod !== 'last')
        throw new InvalidExportRequestError('billingPeriod must be current or last');
      path = `${API}/usage/unbilled/export`;
      body = JSON.stringify({ currencyCode, billingPeriod: request.billingPeriod, attributeSet });
    } else {
      if (!/^[A-Za-z0-9-]{1,64}$/.test(request.invoiceId))
        throw new InvalidExportRequestError('invoiceId must be 1-64 letters, digits or dashes');
      path = `${API}/usage/billed/export`;
      body = JSON.stringify({ invoiceId: request.invoiceId, attributeSet });
    }
    const answer = await this.request('POST', this.url(path), call, body);
    const location = answer.headers.location;
    if (!location)
      throw new GraphResponseShapeError(
        'Location',
        'the 202 has no Location header',
        `POST ${path}`,
        answer.requestId,
      );
    let operationUrl: URL;
    try {
      operationUrl = new URL(location, this.base);
    } catch {
      throw new GraphResponseShapeError('Location', 'is not a URL', `POST ${path}`, answer.requestId);
    }
    const operationId = decodeURIComponent(operationUrl.pathname.split('/').filter(Boolean).pop() ?? '');
    if (!OPERATION_ID.test(operationId))
      throw new GraphResponseShapeError(
        'Location',
        'does not end in an operation id',
        `POST ${path}`,
        answer.requestId,
      );
    this.options.logger.info('Graph usage export started', {
      kind: request.kind,
      billingPeriod: request.kind === 'unbilled' ? request.billingPeriod : undefined,
      invoiceId: request.kind === 'billed' ? request.invoiceId : undefined,
      operationId,
      correlationId: call.correlationId,
    });
    return {
      operationId,
      operationUrl: operationUrl.toString(),
      retryAfterMs: parseRetryAfter(answer.headers['retry-after']),
    };
  }

  async getOperation(operationId: string, call: GraphCallOptions = {}): Promise<ExportOperation> {
    if (!OPERATION_ID.test(operationId)) throw new InvalidExportRequestError('not an operation id');
    const path = `${API}/operations/${operationId}`;
    const endpoint = `GET ${API}/operations/{id}`;
    const answer = await this.request('GET', this.url(path), call);
    const body = asObject(answer.body, '$', endpoint, answer.requestId);
    const status = typeof body.status === 'string' ? body.status.toLowerCase() : undefined;
    const common = {
      operationId,
      createdDateTime: optionalString(body.createdDateTime),
      lastActionDateTime: optionalString(body.lastActionDateTime),
    };
    if (status === 'notstarted' || status === 'running') {
      return {
        ...common,
        status: status === 'notstarted' ? 'notStarted' : 'running',
        retryAfterMs: parseRetryAfter(answer.headers['retry-after']),
      };
    }
    if (status === 'failed') {
      const error =
        body.error !== null && typeof body.error === 'object' ? (body.error as Record<string, unknown>) : {};
      const code = error.code === undefined || error.code === null ? 'unknown' : scalarText(error.code);
      return {
        ...common,
        status: 'failed',
        error: { code, message: optionalString(error.message) },
        noData: code === NO_DATA_AVAILABLE,
      };
    }
    if (status === 'succeeded' || status === 'completed') {
      return {
        ...common,
        status: 'succeeded',
        reportedStatus: status,
        manifest: this.manifestLocation(body, endpoint, answer.requestId),
      };
    }
    throw new GraphResponseShapeError(
      'status',
      'is not notStarted, running, succeeded, completed or failed',
      endpoint,
      answer.requestId,
    );
  }

  async readManifest(operation: SucceededOperation, call: GraphCallOptions = {}): Promise<ExportManifest> {
    if (operation.manifest.kind === 'inline') return operation.manifest.manifest;
    const endpoint = `GET ${API}/manifests/{id}`;
    // Checked again: an operation may come back from storage rather than from getOperation.
    const url = checkedUrl(operation.manifest.url, 'manifest link');
    if (url.origin !== this.base.origin) {
      throw new InsecureUrlError('manifest link', `points outside GRAPH_BASE_URL (${url.origin})`);
    }
    const answer = await this.request('GET', url, call);
    return parseManifest(answer.body, endpoint, answer.requestId);
  }

  async openBlob(blob: ExportBlobRef, call: GraphCallOptions = {}): Promise<ExportBlobStream> {
    const { settings, logger } = this.options;
    const timeoutMs = settings.partnerCenter.timeoutMs;
    const endpoint = `GET blob ${blob.name}`;
    const url = checkedUrl(blob.url, `blob ${blob.name}`);
    return withRetries<ExportBlobStream>(
      async (attempts): Promise<AttemptOutcome<ExportBlobStream>> => {
        const clientRequestId = randomUUID();
        const outcome = await this.limiter.run(
          () =>
            openStream(url, {
              timeoutMs,
              signal: call.signal,
              headers: { 'x-ms-client-request-id': clientRequestId, 'x-ms-version': '2023-11-03' },
            }),
          call.signal,
        );
        logger.debug('Graph export blob request', {
          endpoint,
          outcome: outcome.kind === 'response' ? outcome.status : outcome.kind,
          clientRequestId,
        });
        if (outcome.kind !== 'response') return transportFailure(outcome, endpoint, timeoutMs, attempts);
        const requestId = outcome.headers['x-ms-request-id'];
        if (outcome.status === 200) {
          const length = Number(outcome.headers['content-length']);
          return {
            kind: 'done',
            value: {
              body: typedBody(outcome.body, {
                endpoint,
                attempts,
                idleTimeoutMs: timeoutMs,
                signal: call.signal,
              }),
              contentLength:
                Number.isFinite(length) && outcome.headers['content-length'] !== undefined
                  ? length
                  : undefined,
              etag: outcome.headers.etag,
            },
          };
        }
        const text = await readSmallBody(outcome.body);
        const storageCode = outcome.headers['x-ms-error-code'] ?? /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
        if (outcome.status === 410) throw new ExportExpiredError('gone', blob.name, 410, requestId);
        if (outcome.status === 403 && storageCode === 'AuthenticationFailed') {
          const expired = /expir/i.test(text);
          throw new ExportExpiredError(expired ? 'sasExpired' : 'sasRejected', blob.name, 403, requestId);
        }
        const failure = new GraphError({
          status: outcome.status,
          graphCode: storageCode,
          method: 'GET',
          path: `blob ${blob.name}`,
          requestId,
          clientRequestId,
          attempts,
        });
        return retryOrThrow(outcome.status, failure, outcome.headers['retry-after']);
      },
      loggedRetries({
        policy: this.retry,
        signal: call.signal,
        endpoint,
        random: this.random,
        logger,
        message: 'Graph export blob request failed; retrying',
      }),
    );
  }

  private url(path: string): URL {
    return new URL(`${this.base.toString().replace(/\/+$/, '')}${path}`);
  }

  /**
   * Where a succeeded operation's manifest is: inlined in resourceLocation, or behind
   * resourceLocation@odata.navigationLink, which must stay on GRAPH_BASE_URL's origin (the
   * bearer token goes nowhere else).
   */
  private manifestLocation(
    body: Record<string, unknown>,
    endpoint: string,
    requestId?: string,
  ): ManifestLocation {
    const inline = body.resourceLocation;
    if (inline !== null && typeof inline === 'object' && !Array.isArray(inline)) {
      return { kind: 'inline', manifest: parseManifest(inline, endpoint, requestId, 'resourceLocation') };
    }
    const link =
      body['resourceLocation@odata.navigationLink'] ?? (typeof inline === 'string' ? inline : undefined);
    if (typeof link !== 'string' || link === '') {
      throw new GraphResponseShapeError(
        'resourceLocation',
        'a succeeded operation names no manifest',
        endpoint,
        requestId,
      );
    }
    let url: URL;
    try {
      url = new URL(link, this.base);
    } catch {
      throw new GraphResponseShapeError(
        'resourceLocation@odata.navigationLink',
        'is not a URL',
        endpoint,
        requestId,
      );
    }
    if (url.origin !== this.base.origin) {
      throw new InsecureUrlError('manifest link', `points outside GRAPH_BASE_URL (${url.origin})`);
    }
    return { kind: 'link', url: url.toString() };
  }

  /** One Graph API request (JSON) with the limiter, retries and one re-authentication on 401. */
  private async request(
    method: 'GET' | 'POST',
    url: URL,
    call: GraphCallOptions,
    body?: string,
  ): Promise<JsonAnswer> {
    const { settings, tokens, logger } = this.options;
    const timeoutMs = settings.partnerCenter.timeoutMs;
    const endpoint = `${method} ${templatePath(url.pathname)}`;
    let reauthenticated = false;
    let ids: { requestId?: string; clientRequestId?: string } = {};
    return withRetries<JsonAnswer>(
      async (attempts) => {
        const clientRequestId = randomUUID();
        ids = { clientRequestId };
        const { outcome, token } = await this.limiter.run(async () => {
          const token = await tokens.getAccessToken({ signal: call.signal });
          const startedAt = Date.now();
          const outcome: Outcome = await send(this.http, {
            method,
            url: url.toString(),
            data: body,
            headers: {
              Authorization: `Bearer ${token}`,
              Accept: 'application/json',
              ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
              'User-Agent': USER_AGENT,
              'client-request-id': clientRequestId,
              'return-client-request-id': 'true',
            },
            timeoutMs,
            signal: call.signal,
          });
          logger.debug('Graph request', {
            endpoint,
            outcome: outcome.kind === 'response' ? outcome.status : outcome.kind,
            ms: Date.now() - startedAt,
            clientRequestId,
            correlationId: call.correlationId,
          });
          return { outcome, token };
        }, call.signal);

        if (outcome.kind !== 'response') return transportFailure(outcome, endpoint, timeoutMs, attempts);
        const requestId = outcome.headers['request-id'];
        ids = { requestId, clientRequestId };
        if (outcome.status >= 200 && outcome.status < 300) {
          if (outcome.text.trim() === '')
            return {
              kind: 'done',
              value: { status: outcome.status, headers: outcome.headers, body: undefined, requestId },
            };
          try {
            return {
              kind: 'done',
              value: {
                status: outcome.status,
                headers: outcome.headers,
                body: parseJson(outcome.text),
                requestId,
              },
            };
          } catch {
            // Not JSON at all: a cut or mangled answer; the request is safe to repeat.
            return {
              kind: 'retry',
              failure: new GraphResponseShapeError('$', 'the body is not valid JSON', endpoint, requestId),
            };
          }
        }
        if (outcome.status === 401 && !reauthenticated) {
          reauthenticated = true;
          tokens.invalidate(token);
          logger.info('Graph answered 401; getting a new access token once', { endpoint, ...ids });
          return { kind: 'again' };
        }
        if (outcome.status === 410)
          throw new ExportExpiredError('gone', templatePath(url.pathname), 410, requestId);
        const error = graphError(outcome.status, outcome.text, method, url.pathname, ids, attempts);
        return retryOrThrow(outcome.status, error, outcome.headers['retry-after']);
      },
      loggedRetries({
        policy: this.retry,
        signal: call.signal,
        endpoint,
        random: this.random,
        logger,
        message: 'Graph request failed; retrying',
        context: () => ({ ...ids }),
      }),
    );
  }
}

/** A request that got no answer: retried, unless the caller cancelled it. */
function transportFailure(
  outcome: { kind: 'aborted' } | { kind: 'timeout' } | { kind: 'network'; reason: string },
  endpoint: string,
  timeoutMs: number,
  attempts: number,
): { kind: 'retry'; failure: Error } {
  if (outcome.kind === 'aborted') throw new RequestAbortedError(endpoint);
  return {
    kind: 'retry',
    failure:
      outcome.kind === 'timeout'
        ? new GraphTimeoutError(endpoint, timeoutMs, attempts)
        : new GraphNetworkError(endpoint, outcome.reason, attempts),
  };
}

/** A path with its ids replaced, for logs and error messages: /operations/{id}. */
function templatePath(pathname: string): string {
  return pathname.replace(/\/(operations|manifests)\/[^/]+/, '/$1/{id}');
}

function graphError(
  status: number,
  text: string,
  method: string,
  pathname: string,
  ids: { requestId?: string; clientRequestId?: string },
  attempts: number,
): GraphError {
  const body = tryParseJson(text);
  const error =
    body !== null &&
    typeof body === 'object' &&
    'error' in body &&
    typeof body.error === 'object' &&
    body.error !== null
      ? (body.error as Record<string, unknown>)
      : {};
  const message = typeof error.message === 'string' ? error.message : text.trim() ? text.trim() : undefined;
  return new GraphError({
    status,
    graphCode: typeof error.code === 'string' ? error.code : undefined,
    description: message?.split('\n')[0].slice(0, 200),
    method,
    path: pathname,
    ...ids,
    attempts,
  });
}

/** GRAPH_BASE_URL, manifest roots and blob URLs: https://, or http:// to a loopback host only. */
function checkedUrl(text: string, purpose: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InsecureUrlError(purpose, 'is not a URL');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new InsecureUrlError(
    purpose,
    url.protocol === 'http:'
      ? 'uses http:// for a host that is not loopback'
      : `has protocol ${url.protocol}`,
  );
}

function asObject(
  value: unknown,
  path: string,
  endpoint: string,
  requestId?: string,
): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || isLosslessNumber(value)) {
    throw new GraphResponseShapeError(path, 'is not an object', endpoint, requestId);
  }
  return value as Record<string, unknown>;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function scalarText(value: unknown): string {
  if (isLosslessNumber(value)) return value.value;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function count(value: unknown): number | undefined {
  const n = isLosslessNumber(value) ? Number(value.value) : typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * A manifest, inlined or fetched. The SAS is registered as a secret at once; blob URLs are
 * rootDirectory + "/" + name + "?" + sasToken, checked (https, or loopback http).
 */
function parseManifest(value: unknown, endpoint: string, requestId?: string, at = '$'): ExportManifest {
  const body = asObject(value, at, endpoint, requestId);
  const shape = (field: string, problem: string) =>
    new GraphResponseShapeError(at === '$' ? field : `${at}.${field}`, problem, endpoint, requestId);
  const sasToken = typeof body.sasToken === 'string' ? body.sasToken.replace(/^\?/, '') : '';
  registerSecret(sasToken);
  const id = typeof body.id === 'string' ? body.id : undefined;
  if (!id) throw shape('id', 'is missing');
  if (typeof body.rootDirectory !== 'string' || body.rootDirectory === '')
    throw shape('rootDirectory', 'is missing');
  if (!sasToken) throw shape('sasToken', 'is missing');
  const root = body.rootDirectory.replace(/\/+$/, '');
  checkedUrl(root, 'manifest rootDirectory');
  if (!Array.isArray(body.blobs)) throw shape('blobs', 'is not an array');
  const blobs: ExportBlob[] = body.blobs.map((entry: unknown, index: number) => {
    const blob = asObject(entry, `${at}.blobs[${index}]`, endpoint, requestId);
    if (
      typeof blob.name !== 'string' ||
      blob.name === '' ||
      blob.name.includes('?') ||
      blob.name.includes('#')
    ) {
      throw shape(`blobs[${index}].name`, 'is not a blob name');
    }
    const url = `${root}/${blob.name}?${sasToken}`;
    checkedUrl(url, `blob ${blob.name}`);
    return {
      index,
      name: blob.name,
      url,
      partitionValue: optionalString(blob.partitionValue),
      lineCount: count(blob.lineCount),
    };
  });
  const blobCount = body.blobCount === undefined ? blobs.length : count(body.blobCount);
  if (blobCount !== blobs.length) {
    // A manifest that lists fewer blobs than it counts would silently drop usage.
    throw shape('blobCount', `says ${String(blobCount)} but ${blobs.length} blobs are listed`);
  }
  const expiry = /(?:^|&)se=([^&]+)/.exec(sasToken)?.[1];
  return {
    id,
    schemaVersion: body.schemaVersion === undefined ? undefined : scalarText(body.schemaVersion),
    dataFormat: optionalString(body.dataFormat),
    createdDateTime: optionalString(body.createdDateTime),
    eTag: optionalString(body.eTag),
    partnerTenantId: optionalString(body.partnerTenantId),
    rootDirectory: root,
    partitionType: optionalString(body.partitionType),
    blobCount,
    blobs,
    sasExpiresAt: expiry === undefined ? undefined : safeDecode(expiry),
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
