import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { stringify } from 'csv-stringify/sync';
import type {
  BilledExportRequester,
  DailyUsagePoint,
  DailyUsageReader,
  Dimension,
  PartnerGroupBy,
  UsageExportRecord,
} from '../../domain/dailyUsage';
import { csvCell } from '../csv';
import { endpoint, type ApiHandler } from '../endpoint';
import { ApiError, quote } from '../errors';
import { ifNoneMatchHits, strongETag } from '../etag';
import { readJsonObject } from '../jsonBody';
import { chooseFormat } from '../negotiation';
import {
  BilledExportRequestSchema,
  customerGroupBy,
  DEFAULT_RUNS,
  MAX_DAILY_USAGE_DAYS,
  MAX_RUNS,
  partnerGroupBy,
  QUERIES,
  usageDay,
  type DailyUsageResponseBody,
  type UsageExportBody,
} from '../schemas';
import { parseFormat, parseId, parseLimit, readQuery } from '../validation';

export interface DailyUsageDependencies {
  reader: DailyUsageReader;
}

/** The CSV columns of both daily-usage routes (the JSON point's fields). */
export const DAILY_USAGE_COLUMNS = [
  'day',
  'customerId',
  'value',
  'label',
  'billingCurrency',
  'billingTotal',
  'pricingCurrency',
  'pricingTotal',
  'lines',
] as const;

/**
 * GET /api/v1/customers/{customerId}/daily-usage?from&to&groupBy: the customer's figures per day,
 * from the usage export, each month as one export left it (`sources`). One partition.
 */
export function createCustomerDailyUsageHandler(deps: DailyUsageDependencies): ApiHandler {
  return endpoint({
    GET: async (request) => {
      const customerId = parseId(request.params.customerId, 'InvalidCustomerId');
      const query = readQuery(request.query, QUERIES.dailyUsage);
      const { from, to } = parseDays(query.get('from'), query.get('to'));
      const groupBy = parseEnum(customerGroupBy, 'groupBy', query.get('groupBy') ?? 'total');
      const format = chooseFormat(request.headers.get('accept'), parseFormat(query.get('format')), [
        'json',
        'csv',
      ]);
      const read = await deps.reader.customerDailyUsage(
        customerId,
        dimensionOf(groupBy) as Dimension,
        from,
        to,
      );
      return respond(
        request,
        format,
        { groupBy, from, to, sources: read.sources, data: read.points },
        `daily-usage-${customerId}`,
      );
    },
  });
}

/** GET /api/v1/daily-usage?from&to&groupBy: every customer's figures per day (partition `partner`, a query per month). */
export function createPartnerDailyUsageHandler(deps: DailyUsageDependencies): ApiHandler {
  return endpoint({
    GET: async (request) => {
      const query = readQuery(request.query, QUERIES.partnerDailyUsage);
      const { from, to } = parseDays(query.get('from'), query.get('to'));
      const groupBy = parseEnum(partnerGroupBy, 'groupBy', query.get('groupBy') ?? 'customer');
      const format = chooseFormat(request.headers.get('accept'), parseFormat(query.get('format')), [
        'json',
        'csv',
      ]);
      const read = await deps.reader.partnerDailyUsage(dimensionOf(groupBy) as PartnerGroupBy, from, to);
      return respond(request, format, { groupBy, from, to, sources: [], data: read.points }, 'daily-usage');
    },
  });
}

/** A groupBy as stored: tag keys are case-insensitive in Azure, so a tag's key is lower-cased. */
const dimensionOf = (groupBy: string) =>
  groupBy.startsWith('tag:') ? `tag:${groupBy.slice(4).toLowerCase()}` : groupBy;

export interface UsageExportsDependencies {
  reader: Pick<DailyUsageReader, 'listExports'>;
  /** Undefined when the app cannot start exports (no queue configured). */
  requester?: BilledExportRequester;
}

/**
 * GET /api/v1/usage-exports: recent exports with state, blob counts, lines read and failures
 * (never a blob URL: those hold the SAS). POST {invoiceId}: start a billed export, 202.
 */
export function createUsageExportsHandler(deps: UsageExportsDependencies): ApiHandler {
  return endpoint({
    GET: async (request) => {
      const query = readQuery(request.query, QUERIES.usageExports);
      const limit = parseLimit(query.get('limit'), MAX_RUNS, DEFAULT_RUNS);
      chooseFormat(request.headers.get('accept'), undefined, ['json']);
      const exports = await deps.reader.listExports(limit);
      return noStore(200, { data: exports.map(exportBody) });
    },
    POST: async (request) => {
      readQuery(request.query, QUERIES.none);
      const body = await readJsonObject(request, '{"invoiceId": "G000000000"}');
      const parsed = BilledExportRequestSchema.safeParse(body);
      if (!parsed.success)
        throw new ApiError(
          'InvalidBody',
          'The body must be exactly {"invoiceId": "<1-40 letters, digits or ->"}',
        );
      if (!deps.requester)
        throw new ApiError(
          'ConfigurationInvalid',
          'Usage exports need a queue (QUEUE_STORAGE); none is configured',
        );
      const record = await deps.requester.requestBilledExport(parsed.data.invoiceId);
      return noStore(202, { data: exportBody(record) });
    },
  });
}

function exportBody(r: UsageExportRecord): UsageExportBody {
  return {
    exportId: r.exportId,
    kind: r.source.kind,
    billingPeriod: r.source.kind === 'unbilled' ? r.source.billingPeriod : null,
    month: r.source.kind === 'unbilled' ? r.source.month : null,
    invoiceId: r.source.kind === 'billed' ? r.source.invoiceId : null,
    trigger: r.trigger,
    state: r.state,
    requestedAt: r.requestedAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt ?? null,
    blobCount: r.blobCount ?? null,
    blobsDone: r.blobsDone,
    linesRead: r.linesRead,
    linesRejected: r.linesRejected,
    customersMerged: r.customersMerged,
    failedBlobs: r.failedBlobs,
    reason: r.reason ?? null,
  };
}

function parseEnum(
  schema: { safeParse(v: unknown): { success: boolean } },
  name: string,
  raw: string,
): string {
  if (!schema.safeParse(raw).success)
    throw new ApiError('InvalidQuery', `${name} ${quote(raw)} is not one this route groups by`);
  return raw;
}

/** from and to are required days; to ≥ from, at most MAX_DAILY_USAGE_DAYS apart. */
function parseDays(fromRaw: string | undefined, toRaw: string | undefined): { from: string; to: string } {
  const day = (name: string, raw: string | undefined) => {
    if (raw === undefined) throw new ApiError('InvalidQuery', `${name} is required (YYYY-MM-DD)`);
    const ms = Date.parse(`${raw}T00:00:00Z`);
    if (
      !usageDay.safeParse(raw).success ||
      Number.isNaN(ms) ||
      new Date(ms).toISOString().slice(0, 10) !== raw
    )
      throw new ApiError('InvalidQuery', `${name} ${quote(raw)} is not a date (YYYY-MM-DD)`);
    return ms;
  };
  const from = day('from', fromRaw);
  const to = day('to', toRaw);
  if (from > to) throw new ApiError('InvalidQuery', 'from is later than to');
  if ((to - from) / 86_400_000 > MAX_DAILY_USAGE_DAYS)
    throw new ApiError('InvalidQuery', `from and to are more than ${MAX_DAILY_USAGE_DAYS} days apart`);
  return { from: fromRaw as string, to: toRaw as string };
}

const NUMERIC = new Set(['billingTotal', 'pricingTotal', 'lines']);

function csvOf(points: readonly DailyUsagePoint[]): string {
  const rows = points.map((p) =>
    DAILY_USAGE_COLUMNS.map((column) => {
      const value = (p as unknown as Record<string, unknown>)[column];
      // Amounts are plain decimals: a leading minus is a number, not a formula.
      if (NUMERIC.has(column) && /^-?\d+(\.\d+)?$/.test(String(value))) return String(value);
      return csvCell(column, value);
    }),
  );
  return stringify(rows, {
    header: true,
    columns: [...DAILY_USAGE_COLUMNS],
    record_delimiter: '\r\n',
    quoted_match: /[\r\n]/,
  });
}

/** 200 with a strong ETag over the bytes (304 on If-None-Match); revalidated on every use. */
function respond(
  request: HttpRequest,
  format: 'json' | 'csv',
  body: DailyUsageResponseBody,
  name: string,
): HttpResponseInit {
  const text = format === 'csv' ? csvOf(body.data) : JSON.stringify(body);
  const etag = strongETag(text);
  const headers: Record<string, string> = {
    ETag: etag,
    'Cache-Control': 'private, no-cache',
    Vary: 'Accept',
  };
  if (ifNoneMatchHits(request.headers.get('if-none-match'), etag)) return { status: 304, headers };
  headers['Content-Type'] = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8';
  if (format === 'csv')
    headers['Content-Disposition'] = `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`;
  return { status: 200, headers, body: text };
}

function noStore(status: number, body: unknown): HttpResponseInit {
  return {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
    body: JSON.stringify(body),
  };
}
