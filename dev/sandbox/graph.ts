// The Microsoft Graph side of the sandbox: the billed and unbilled daily rated usage export
// (start, operation, manifest) and the storage account its blobs live in (SAS-checked, gzip JSON
// Lines). See ../../../shared/partner-center.md, "The daily rated usage export".

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { billingPeriodAt, type SandboxClock } from './clock';
import type { Counters } from './counters';
import { readBody } from './http';
import type { SandboxData } from './data';
import { ExportLines, wholePeriod, type AttributeSet, type ExportPlan } from './graphData';
import { Rng } from './prng';
import type { TokenAuthority } from './tokens';
import { usageMoment } from './usage';

/** How the Graph side behaves; every field is optional in SandboxOptions.graph. */
export interface GraphSettings {
  /** Blobs per export. Default 2. */
  blobCount: number;
  /**
   * Lines per blob; each resource-day is then split into several lines so the export holds
   * blobCount × linesPerBlob lines (at least one line per resource-day). Default: one line per
   * resource-day, however many that makes.
   */
  linesPerBlob?: number;
  /** `running` answers to an operation before it succeeds. Default 2. */
  runningPolls: number;
  /** Retry-After (seconds) on a running operation and on the 202. Default 1. */
  retryAfterSeconds: number;
  /** Lifetime of the manifest's SAS, on the sandbox clock. Default 3600. */
  sasLifetimeSeconds: number;
  /** Where the success operation puts the manifest. Default 'link' (resourceLocation@odata.navigationLink). */
  manifest: 'link' | 'inline';
  /** The word a finished operation says. Default 'succeeded'. */
  successStatus: 'succeeded' | 'completed';
  /** What an expired SAS gets: Azure Storage's 403 AuthenticationFailed, or 410 Gone. Default 403. */
  expiredStatus: 403 | 410;
  /** Some lines with string amounts, camelCase keys, unknown and missing fields. Default true. */
  variety: boolean;
  /**
   * Keep each blob's gzip bytes in memory after its first whole download and serve later ones
   * from there, as a storage account would (a bench then measures its workers, not the
   * generator). About 65 bytes a line. Default false.
   */
  cacheBlobs: boolean;
}

/** Faults of the Graph side, counted down as they are served; the rate is drawn per download. */
export interface GraphFaults {
  /** The next n Graph or blob requests answer 429 with Retry-After. */
  throttleNext: number;
  /** Retry-After of those 429s, seconds. Default 1. */
  throttleRetryAfterSeconds: number;
  /** The next n blob downloads are cut (connection reset) halfway through the body. */
  resetNextBlobs: number;
  /** Probability that a blob download is cut halfway, drawn from the seed. */
  resetBlobRate: number;
  /** The next n exports started fail with 5000 "No data available". */
  failNextExports: number;
}

export const GRAPH_DEFAULTS: GraphSettings = {
  blobCount: 2,
  runningPolls: 2,
  retryAfterSeconds: 1,
  sasLifetimeSeconds: 3600,
  manifest: 'link',
  successStatus: 'succeeded',
  expiredStatus: 403,
  variety: true,
  cacheBlobs: false,
};

export const NO_GRAPH_FAULTS: GraphFaults = {
  throttleNext: 0,
  throttleRetryAfterSeconds: 1,
  resetNextBlobs: 0,
  resetBlobRate: 0,
  failNextExports: 0,
};

/** An export the sandbox started, for tests that compute what it should hold. */
export interface SandboxExport {
  operationId: string;
  kind: 'unbilled' | 'billed';
  billingPeriod?: 'current' | 'last';
  invoiceId?: string;
  /** Figures are rated up to here (epoch ms). */
  asOf: number;
  /** undefined: the operation fails with 5000. */
  lines: ExportLines | undefined;
  polls: number;
}

interface Operation extends SandboxExport {
  createdAt: number;
  plan: ExportPlan | undefined;
  /** Set when the operation first answers succeeded. */
  manifest?: { issuedAt: number; expiresAt: number; sasToken: string; root: string };
}

const API = '/v1.0/reports/partners/billing';
const BLOB_ROOT = '/blobs/billingexports';
const EXPORT_PATH = /^\/v1\.0\/reports\/partners\/billing\/usage\/(unbilled|billed)\/export\/?$/i;
const OPERATION_PATH = /^\/v1\.0\/reports\/partners\/billing\/operations\/([^/]+)\/?$/i;
const MANIFEST_PATH = /^\/v1\.0\/reports\/partners\/billing\/manifests\/([^/]+)\/?$/i;
const BLOB_PATH =
  /^\/blobs\/billingexports\/[^/]+\/([^/]+)\/Fragment=full\/PartitionType=default\/part-(\d{5})-[^/]+\.c000\.json\.gz$/;
const SAS_VERSION = '2023-11-03';

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export class GraphSide {
  private readonly operations = new Map<string, Operation>();
  private readonly blobCache = new Map<string, Buffer>();
  private readonly key = randomBytes(32);
  private faults: GraphFaults;
  private downloads = 0;
  /** A SAS issued before this instant counts as expired (expireSas). */
  private sasNotBefore = 0;

  constructor(
    private readonly settings: GraphSettings,
    faults: Partial<GraphFaults>,
    private readonly context: {
      seed: number;
      data: SandboxData;
      partner: { tenantId: string; name: string };
      clock: SandboxClock;
      tokens: TokenAuthority;
      counters: Counters;
      usageIntervalMs: number;
    },
  ) {
    this.faults = validateFaults({ ...NO_GRAPH_FAULTS, ...faults });
  }

  /** True when the path is the Graph side's; the server then leaves the request to `handle`. */
  static owns(pathname: string): boolean {
    return pathname.startsWith('/v1.0/') || pathname.startsWith('/blobs/');
  }

  get faultSettings(): GraphFaults {
    return { ...this.faults };
  }

  setFaults(faults: Partial<GraphFaults>): void {
    this.faults = validateFaults({ ...this.faults, ...faults });
  }

  /** Every SAS issued so far is treated as expired from now on. */
  expireSas(): void {
    this.sasNotBefore = this.context.clock.now() + 1;
  }

  exports(): SandboxExport[] {
    return [...this.operations.values()].map(
      ({ operationId, kind, billingPeriod, invoiceId, asOf, lines, polls }) => ({
        operationId,
        kind,
        billingPeriod,
        invoiceId,
        asOf,
        lines,
        polls,
      }),
    );
  }

  /** The sandbox's invoice id for the billing period holding `at`, e.g. G202611001. */
  static invoiceId(at: number): string {
    const d = new Date(billingPeriodAt(at).start);
    return `G${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}001`;
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = randomUUID();
    const clientRequestId = header(req, 'client-request-id') ?? randomUUID();
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    const isBlob = url.pathname.startsWith(`${BLOB_ROOT}/`);
    const template = isBlob ? 'GET /blobs/{export}/{blob}' : graphTemplate(req.method, url.pathname);

    if (this.faults.throttleNext > 0) {
      this.faults.throttleNext--;
      return this.answer(res, template, requestId, clientRequestId, {
        status: 429,
        headers: { 'Retry-After': String(this.faults.throttleRetryAfterSeconds) },
        body: graphErrorBody(
          'TooManyRequests',
          'Too many requests. Retry after the time in the Retry-After header.',
        ),
      });
    }
    if (isBlob) return this.blob(req, res, url, requestId);

    const auth = this.context.tokens.authenticate(req.headers.authorization);
    if (!auth.ok || auth.grant.audience !== 'graph') {
      return this.answer(res, template, requestId, clientRequestId, {
        status: 401,
        headers: {
          'WWW-Authenticate':
            'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"',
        },
        body: graphErrorBody(
          'InvalidAuthenticationToken',
          auth.ok ? 'Access token validation failure. Invalid audience.' : auth.description,
        ),
      });
    }

    let answer: Answer;
    const exportMatch = EXPORT_PATH.exec(url.pathname);
    const operationMatch = OPERATION_PATH.exec(url.pathname);
    const manifestMatch = MANIFEST_PATH.exec(url.pathname);
    if (exportMatch && req.method === 'POST') {
      answer = this.startExport(
        exportMatch[1].toLowerCase() as 'unbilled' | 'billed',
        await readBody(req),
        base,
      );
    } else if (operationMatch && req.method === 'GET') {
      answer = this.operation(decodeURIComponent(operationMatch[1]), base);
    } else if (manifestMatch && req.method === 'GET') {
      const op = this.operations.get(decodeURIComponent(manifestMatch[1]));
      answer = op?.manifest
        ? {
            status: 200,
            body: {
              '@odata.context': `${base}${API}/$metadata#manifests/$entity`,
              ...this.manifest(op, base),
            },
          }
        : notFound('The manifest does not exist.');
    } else if (exportMatch || operationMatch || manifestMatch) {
      answer = {
        status: 405,
        body: graphErrorBody('Request_UnsupportedQuery', 'The HTTP method is not allowed.'),
      };
    } else {
      answer = notFound(`Resource not found for the segment '${url.pathname.split('/').pop() ?? ''}'.`);
    }
    return this.answer(res, template, requestId, clientRequestId, answer);
  }

  private startExport(kind: 'unbilled' | 'billed', text: string, base: string): Answer {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return badRequest('The request body is not a JSON object.');
    }
    const attributeSet = body.attributeSet ?? 'full';
    if (attributeSet !== 'full' && attributeSet !== 'basic')
      return badRequest(`Invalid value '${String(attributeSet)}' for attributeSet: full or basic.`);
    const now = this.context.clock.now();
    const id = randomUUID();
    let op: Operation;
    if (kind === 'unbilled') {
      if (typeof body.currencyCode !== 'string' || !/^[A-Za-z]{3}$/.test(body.currencyCode))
        return badRequest('currencyCode is required: an ISO 4217 code such as USD.');
      if (body.billingPeriod !== 'current' && body.billingPeriod !== 'last')
        return badRequest('billingPeriod is required: current or last.');
      const moment =
        body.billingPeriod === 'current'
          ? usageMoment(now, this.context.usageIntervalMs)
          : wholePeriod(billingPeriodAt(billingPeriodAt(now).start - 1));
      op = this.operationFor(id, now, 'unbilled', moment, attributeSet, {
        billingPeriod: body.billingPeriod,
      });
    } else {
      const invoiceId = body.invoiceId;
      const match = typeof invoiceId === 'string' ? /^G(\d{4})(\d{2})\d{3}$/.exec(invoiceId) : null;
      if (typeof invoiceId !== 'string' || !match || Number(match[2]) < 1 || Number(match[2]) > 12)
        return badRequest('invoiceId is required: an invoice id such as G202611001.');
      const period = billingPeriodAt(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1));
      // Only a month that is over has an invoice; any other has no billed data.
      const billed = period.end <= now;
      op = this.operationFor(id, now, 'billed', wholePeriod(period), attributeSet, { invoiceId }, billed);
    }
    this.operations.set(id, op);
    return {
      status: 202,
      headers: {
        Location: `${base}${API}/operations/${id}`,
        'Retry-After': String(this.settings.retryAfterSeconds),
      },
    };
  }

  private operationFor(
    id: string,
    now: number,
    kind: 'unbilled' | 'billed',
    moment: ReturnType<typeof wholePeriod>,
    attributeSet: AttributeSet,
    extra: { billingPeriod?: 'current' | 'last'; invoiceId?: string },
    hasData = true,
  ): Operation {
    let failing = !hasData;
    if (this.faults.failNextExports > 0) {
      this.faults.failNextExports--;
      failing = true;
    }
    const plan: ExportPlan | undefined = failing
      ? undefined
      : {
          moment,
          invoiceId: extra.invoiceId,
          attributeSet,
          blobCount: this.settings.blobCount,
          linesPerBlob: this.settings.linesPerBlob,
          variety: this.settings.variety,
        };
    return {
      operationId: id,
      kind,
      ...extra,
      asOf: moment.asOf,
      createdAt: now,
      plan,
      lines: plan ? new ExportLines(this.context.data, this.context.partner, plan) : undefined,
      polls: 0,
    };
  }

  private operation(id: string, base: string): Answer {
    const op = this.operations.get(id);
    if (!op) return notFound(`The operation ${id} does not exist.`);
    op.polls++;
    const common = {
      '@odata.context': `${base}${API}/$metadata#operations/$entity`,
      id: op.operationId,
      createdDateTime: new Date(op.createdAt).toISOString(),
      lastActionDateTime: new Date(this.context.clock.now()).toISOString(),
    };
    if (op.polls <= this.settings.runningPolls) {
      return {
        status: 200,
        headers: { 'Retry-After': String(this.settings.retryAfterSeconds) },
        body: {
          '@odata.type': '#microsoft.graph.partners.billing.runningOperation',
          ...common,
          status: 'running',
        },
      };
    }
    if (!op.lines) {
      return {
        status: 200,
        body: {
          '@odata.type': '#microsoft.graph.partners.billing.failedOperation',
          ...common,
          status: 'failed',
          error: { code: '5000', message: 'No data available' },
        },
      };
    }
    if (!op.manifest) {
      const issuedAt = Math.max(this.context.clock.now(), this.sasNotBefore);
      const expiresAt = issuedAt + this.settings.sasLifetimeSeconds * 1000;
      const root = `${BLOB_ROOT}/${this.context.partner.tenantId}/${op.operationId}/Fragment=full/PartitionType=default`;
      op.manifest = { issuedAt, expiresAt, root, sasToken: this.sas(root, issuedAt, expiresAt) };
    }
    const location =
      this.settings.manifest === 'inline'
        ? { resourceLocation: this.manifest(op, base) }
        : { 'resourceLocation@odata.navigationLink': `${base}${API}/manifests/${op.operationId}` };
    return {
      status: 200,
      body: {
        '@odata.type': '#microsoft.graph.partners.billing.exportSuccessOperation',
        ...common,
        status: this.settings.successStatus,
        ...location,
      },
    };
  }

  private manifest(op: Operation, base: string): Record<string, unknown> {
    const lines = op.lines as ExportLines;
    const manifest = op.manifest as NonNullable<Operation['manifest']>;
    const blobs = Array.from({ length: this.settings.blobCount }, (_, i) => {
      const [from, to] = lines.blobRange(i);
      return { name: blobName(i, op.operationId), partitionValue: 'default', lineCount: to - from };
    });
    return {
      id: op.operationId,
      schemaVersion: '2',
      dataFormat: 'compressedJSON',
      createdDateTime: new Date(manifest.issuedAt).toISOString(),
      eTag: `"${Rng.of(this.context.seed, op.operationId).uint32().toString(16)}"`,
      partnerTenantId: this.context.partner.tenantId,
      rootDirectory: `${base}${manifest.root}`,
      sasToken: manifest.sasToken,
      partitionType: 'default',
      blobCount: blobs.length,
      blobs,
    };
  }

  private sas(root: string, issuedAt: number, expiresAt: number): string {
    const st = new Date(issuedAt).toISOString();
    const se = new Date(expiresAt).toISOString();
    const sig = this.signature('rl', st, se, root);
    return `sv=${SAS_VERSION}&st=${encodeURIComponent(st)}&se=${encodeURIComponent(se)}&sr=d&sp=rl&sdd=3&sig=${encodeURIComponent(sig)}`;
  }

  private signature(sp: string, st: string, se: string, root: string): string {
    return createHmac('sha256', this.key)
      .update(`${sp}\n${st}\n${se}\n${root}\n${SAS_VERSION}`)
      .digest('base64');
  }

  private async blob(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): Promise<void> {
    const template = 'GET /blobs/{export}/{blob}';
    const storageError = (status: number, code: string, message: string, detail?: string) =>
      this.storageAnswer(res, template, requestId, status, code, message, detail);
    if (req.method !== 'GET')
      return storageError(405, 'UnsupportedHttpVerb', 'The resource does not support the HTTP verb.');
    const match = BLOB_PATH.exec(url.pathname);
    const op = match ? this.operations.get(match[1]) : undefined;
    const q = url.searchParams;
    const [sp, st, se, sig] = [q.get('sp'), q.get('st'), q.get('se'), q.get('sig')];
    const root = url.pathname.slice(0, url.pathname.lastIndexOf('/'));
    if (
      !sp ||
      !st ||
      !se ||
      !sig ||
      q.get('sv') !== SAS_VERSION ||
      q.get('sr') !== 'd' ||
      !sp.includes('r')
    ) {
      return storageError(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request.',
        'The SAS is incomplete.',
      );
    }
    const expected = Buffer.from(this.signature(sp, st, se, root));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      return storageError(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
        'Signature did not match.',
      );
    }
    const now = this.context.clock.now();
    if (Date.parse(se) <= now || Date.parse(st) < this.sasNotBefore) {
      if (this.settings.expiredStatus === 410) {
        return storageError(410, 'Gone', 'The export has expired. Request a new export.');
      }
      return storageError(
        403,
        'AuthenticationFailed',
        'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.',
        `Signed expiry time [${new Date(Date.parse(se)).toUTCString()}] must be after signed start time [${new Date(now).toUTCString()}]`,
      );
    }
    const index = match ? Number(match[2]) : -1;
    if (
      !op?.lines ||
      !match ||
      index >= this.settings.blobCount ||
      !url.pathname.endsWith(`-${op.operationId}.c000.json.gz`)
    ) {
      return storageError(404, 'BlobNotFound', 'The specified blob does not exist.');
    }

    const lines = op.lines;
    const [from, to] = lines.blobRange(index);
    const download = this.downloads++;
    let cut = false;
    if (this.faults.resetNextBlobs > 0) {
      this.faults.resetNextBlobs--;
      cut = true;
    } else if (this.faults.resetBlobRate > 0) {
      cut = Rng.of(this.context.seed, 'graphBlobReset', download).next() < this.faults.resetBlobRate;
    }
    this.context.counters.request(template, cut ? 'reset' : '200');
    const key = `${op.operationId}/${index}`;
    const cached = this.blobCache.get(key);
    const headers: Record<string, string> = {
      'Content-Type': 'application/octet-stream',
      ETag: `"0x${Rng.of(this.context.seed, op.operationId, index).uint32().toString(16).toUpperCase()}"`,
      'x-ms-request-id': requestId,
      'x-ms-version': SAS_VERSION,
      'x-ms-blob-type': 'BlockBlob',
    };
    if (cached) {
      // Served from memory, as a storage account would: no generation, no compression.
      res.writeHead(200, { ...headers, 'Content-Length': String(cached.length) });
      if (!cut) return new Promise((resolve) => res.end(cached, () => resolve()));
      res.write(cached.subarray(0, Math.floor(cached.length / 2)), () => {
        setTimeout(() => res.socket?.resetAndDestroy(), 20);
      });
      return;
    }
    res.writeHead(200, headers);
    const gzip = createGzip({ level: 1 });
    const cutAt = cut ? from + Math.floor((to - from) / 2) : -1;
    const keep = this.settings.cacheBlobs && !cut ? ([] as Buffer[]) : undefined;
    if (keep) gzip.on('data', (chunk: Buffer) => keep.push(chunk));
    async function* text(): AsyncGenerator<string> {
      let batch: string[] = [];
      let line = from;
      for (const item of lines.lines(from, to)) {
        batch.push(item);
        line++;
        if (line === cutAt) {
          yield `${batch.join('\n')}\n`;
          batch = [];
          await new Promise<void>((resolve) => gzip.flush(() => resolve()));
          await new Promise((resolve) => setTimeout(resolve, 20));
          res.socket?.resetAndDestroy();
          return;
        }
        if (batch.length >= 512) {
          yield `${batch.join('\n')}\n`;
          batch = [];
        }
      }
      if (batch.length > 0) yield `${batch.join('\n')}\n`;
    }
    try {
      await pipeline(Readable.from(text()), gzip, res);
      // Only a blob the client read to its end is kept (a download cut short made it incomplete).
      if (keep) this.blobCache.set(key, Buffer.concat(keep));
    } catch {
      // The client went away, or the fault cut the connection: nothing to answer.
    }
  }

  private storageAnswer(
    res: ServerResponse,
    template: string,
    requestId: string,
    status: number,
    code: string,
    message: string,
    detail?: string,
  ): Promise<void> {
    this.context.counters.request(template, String(status));
    const xml =
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\n` +
      `RequestId:${requestId}\nTime:${new Date(this.context.clock.now()).toISOString()}</Message>` +
      `${detail ? `<AuthenticationErrorDetail>${detail}</AuthenticationErrorDetail>` : ''}</Error>`;
    const body = Buffer.from(xml, 'utf8');
    res.writeHead(status, {
      'Content-Type': 'application/xml',
      'Content-Length': String(body.length),
      'x-ms-request-id': requestId,
      'x-ms-error-code': code,
    });
    return new Promise((resolve) => res.end(body, resolve));
  }

  private answer(
    res: ServerResponse,
    template: string,
    requestId: string,
    clientRequestId: string,
    answer: Answer,
  ): Promise<void> {
    this.context.counters.request(template, String(answer.status));
    const body =
      answer.body === undefined
        ? Buffer.alloc(0)
        : Buffer.from(
            answer.status < 400
              ? JSON.stringify(answer.body)
              : withInnerError(answer.body, requestId, clientRequestId, this.context.clock.now()),
            'utf8',
          );
    res.writeHead(answer.status, {
      ...(answer.body === undefined
        ? {}
        : { 'Content-Type': 'application/json; odata.metadata=minimal; charset=utf-8' }),
      'request-id': requestId,
      'client-request-id': clientRequestId,
      ...answer.headers,
      'Content-Length': String(body.length),
    });
    return new Promise((resolve) => res.end(body, resolve));
  }
}

export function resolveGraphSettings(settings: Partial<GraphSettings> = {}): GraphSettings {
  const resolved = { ...GRAPH_DEFAULTS, ...settings };
  const whole = (name: string, value: number | undefined, min: number) => {
    if (value !== undefined && !(Number.isInteger(value) && value >= min))
      throw new Error(`graph.${name} must be a whole number ${min} or more`);
  };
  whole('blobCount', resolved.blobCount, 1);
  whole('linesPerBlob', resolved.linesPerBlob, 1);
  whole('runningPolls', resolved.runningPolls, 0);
  whole('retryAfterSeconds', resolved.retryAfterSeconds, 0);
  whole('sasLifetimeSeconds', resolved.sasLifetimeSeconds, 1);
  if (resolved.blobCount > 99_999) throw new Error('graph.blobCount must be at most 99999');
  return resolved;
}

function validateFaults(faults: GraphFaults): GraphFaults {
  for (const key of [
    'throttleNext',
    'throttleRetryAfterSeconds',
    'resetNextBlobs',
    'failNextExports',
  ] as const) {
    if (!(Number.isInteger(faults[key]) && faults[key] >= 0))
      throw new Error(`graph fault ${key} must be a whole number 0 or more`);
  }
  if (!(faults.resetBlobRate >= 0 && faults.resetBlobRate <= 1))
    throw new Error('graph fault resetBlobRate must be in [0, 1]');
  return faults;
}

function blobName(index: number, id: string): string {
  return `part-${String(index).padStart(5, '0')}-${id}.c000.json.gz`;
}

function graphTemplate(method: string | undefined, pathname: string): string {
  if (EXPORT_PATH.test(pathname)) return `${method ?? 'GET'} ${API}/usage/{kind}/export`;
  if (OPERATION_PATH.test(pathname)) return `${method ?? 'GET'} ${API}/operations/{id}`;
  if (MANIFEST_PATH.test(pathname)) return `${method ?? 'GET'} ${API}/manifests/{id}`;
  return 'graph unmatched';
}

function graphErrorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Graph's error bodies carry innerError with the date and both request ids. */
function withInnerError(body: unknown, requestId: string, clientRequestId: string, now: number): string {
  if (body !== null && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: Record<string, unknown> }).error;
    return JSON.stringify({
      error: {
        ...error,
        innerError: {
          date: new Date(now).toISOString().slice(0, 19),
          'request-id': requestId,
          'client-request-id': clientRequestId,
        },
      },
    });
  }
  return JSON.stringify(body);
}

function badRequest(message: string): Answer {
  return { status: 400, body: graphErrorBody('BadRequest', message) };
}

function notFound(message: string): Answer {
  return { status: 404, body: graphErrorBody('NotFound', message) };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) || undefined;
}
