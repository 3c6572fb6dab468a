import type { Decimal } from './usage';

/**
 * Daily usage from Microsoft Graph's rated usage export, aggregated per customer and day (see
 * docs/architecture.md, "The usage export pipeline"). Every amount is an exact decimal string.
 */

/**
 * What an aggregate is grouped by: the customer's daily `total`, the Azure `subscription`, the
 * `resourceGroup` ("{subscription}/{group}"), the `meterCategory`, the `meter` (its id), or one
 * tag key, `tag:{key}` (lower-cased key).
 */
export type Dimension =
  'total' | 'subscription' | 'resourceGroup' | 'meterCategory' | 'meter' | `tag:${string}`;

export interface DailyUsageEntry {
  customerId: string;
  /** YYYY-MM-DD (UTC). */
  day: string;
  dimension: Dimension | string;
  /** The group's value ('' when the line items had none; for `total`, always ''). */
  value: string;
  /** A display name when the line items carry one (meter name, subscription description, tag key as sent). */
  label: string;
  billingCurrency: string;
  billingTotal: Decimal;
  pricingCurrency: string;
  pricingTotal: Decimal;
  lines: number;
}

/** One customer's aggregates of one blob: every dimension, exact sums. */
export interface CustomerEntries {
  customerId: string;
  customerName: string;
  entries: DailyUsageEntry[];
}

export type ExportState =
  /** Started in Graph; a later invocation polls its operation. */
  | 'running'
  /** The manifest is read and one message per blob is queued. */
  | 'processing'
  /** Every blob is done (or failed); customers are being flipped to this export. */
  | 'merging'
  | 'succeeded'
  /** Done, but some blobs failed for good (named in `failedBlobs`): their lines are missing. */
  | 'partial'
  | 'failed'
  /** Graph answered 5000 "No data available": nothing to read for the period. */
  | 'noData'
  /** The blobs' SAS expired (or Graph answered 410) before all were read: a new export is due. */
  | 'expired';

export const FINISHED_STATES: readonly ExportState[] = [
  'succeeded',
  'partial',
  'failed',
  'noData',
  'expired',
];

export type ExportSource =
  | { kind: 'unbilled'; billingPeriod: 'current' | 'last'; currencyCode: string; month: string }
  | { kind: 'billed'; invoiceId: string };

export interface FailedBlob {
  index: number;
  name: string;
  reason: string;
}

export interface UsageExportRecord {
  exportId: string;
  source: ExportSource;
  trigger: 'schedule' | 'request';
  state: ExportState;
  requestedAt: string;
  updatedAt: string;
  finishedAt?: string;
  operationId?: string;
  /** When the operation should be asked again (Retry-After). */
  nextPollAt?: string;
  blobCount?: number;
  blobsDone: number;
  failedBlobs: FailedBlob[];
  linesRead: number;
  linesRejected: number;
  customersMerged: number;
  /** Why the export failed, expired or is partial. */
  reason?: string;
  /** When its staged rows and blob URLs were deleted (finished exports only). */
  cleanedAt?: string;
}

/** A blob's work item: names the export and the blob, never its URL (which holds the SAS). */
export interface BlobMessage {
  kind: 'blob';
  exportId: string;
  index: number;
}

/** Continues the merge of an export from `after` (a customer key), one time-bounded slice per message. */
export interface MergeMessage {
  kind: 'merge';
  exportId: string;
  after?: string;
}

export type ExportMessage = BlobMessage | MergeMessage;

/** Puts export work on the queue (USAGE_EXPORT_QUEUE). */
export interface ExportQueue {
  send(message: ExportMessage): Promise<void>;
}

/** A day's figure in the API: one group's sums on one day. */
export interface DailyUsagePoint {
  day: string;
  customerId?: string;
  value: string | null;
  label?: string;
  billingCurrency: string;
  billingTotal: Decimal;
  pricingCurrency: string;
  pricingTotal: Decimal;
  lines: number;
}

/** Where the served figures came from, per month: the export each customer-month shows. */
export interface DailyUsageSource {
  month: string;
  exportId: string;
  committedAt: string;
  kind: ExportSource['kind'];
}

/** What the partner-wide route groups by. */
export type PartnerGroupBy = 'customer' | Exclude<Dimension, 'total'>;

/** The daily-usage routes' port: reads stay within one partition, or one per month asked. */
export interface DailyUsageReader {
  customerDailyUsage(
    customerId: string,
    groupBy: Dimension,
    fromDay: string,
    toDay: string,
  ): Promise<{ sources: DailyUsageSource[]; points: DailyUsagePoint[] }>;
  partnerDailyUsage(
    groupBy: PartnerGroupBy,
    fromDay: string,
    toDay: string,
  ): Promise<{ points: DailyUsagePoint[] }>;
  listExports(limit: number): Promise<UsageExportRecord[]>;
}

/** The admin route's way to start a billed export (it calls Graph once, then records it). */
export interface BilledExportRequester {
  requestBilledExport(invoiceId: string): Promise<UsageExportRecord>;
}
