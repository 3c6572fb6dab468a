import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import { hasResourceBreakdown } from '../domain/usage';
import type { HistoryPoint, SnapshotInfo } from '../domain/usageReader';
import type { RunRecord } from '../domain/runs';
import type { z } from 'zod';
import { ISO_DATE_PREFIX } from '../domain/patterns';
import type {
  BillingPeriodSchema,
  CustomerRecordSchema,
  CustomerUsageSummarySchema,
  HistoryPointSchema,
  PartnerUsageSummarySchema,
  ResourceRecordSchema,
  RunSchema,
  SnapshotSchema,
  SubscriptionRecordSchema,
  SubscriptionResourcesSchema,
} from './schemas';

/**
 * Domain → response bodies. Every documented field is always present (null when Partner Center
 * did not send it), names are camelCase, dates ISO-8601 UTC, and money is flat: the exact decimal
 * string in `totalCost` (and `budget`, …) next to `currencyCode` (ISO 4217, Azure plans) or
 * `currencyLocale` (legacy customers, e.g. "fr-FR"), plus `usdTotalCost` where Partner Center
 * gives one. The shapes are defined once, in src/api/schemas.ts.
 */

export type BillingPeriod = z.infer<typeof BillingPeriodSchema>;
export type SnapshotMeta = z.infer<typeof SnapshotSchema>;

export interface UsageEnvelope<T> {
  snapshot: SnapshotMeta | null;
  data: T;
  /** Present on paged routes only; null on the last page. */
  continuationToken?: string | null;
}

interface Money {
  totalCost: string;
  currencyCode: string | null;
  currencyLocale: string | null;
}

export type PartnerUsageSummaryBody = z.infer<typeof PartnerUsageSummarySchema>;
export type CustomerRecordBody = z.infer<typeof CustomerRecordSchema>;
export type CustomerSummaryBody = z.infer<typeof CustomerUsageSummarySchema>;
export type SubscriptionRecordBody = z.infer<typeof SubscriptionRecordSchema>;
export type ResourceRecordBody = z.infer<typeof ResourceRecordSchema>;
export type SubscriptionResourcesBody = z.infer<typeof SubscriptionResourcesSchema>;
export type HistoryPointBody = z.infer<typeof HistoryPointSchema>;
export type RunBody = z.infer<typeof RunSchema>;

/** ISO-8601 UTC when the text is a date; otherwise as stored (never invent a date). */
export function isoDate(value: string): string;
export function isoDate(value: string | undefined): string | null;
export function isoDate(value: string | undefined): string | null {
  if (value === undefined) return null;
  // Date.parse is lenient ("1" is 2001); only reformat text that already looks like ISO-8601.
  const time = ISO_DATE_PREFIX.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

function period(start: string | undefined, end: string | undefined): BillingPeriod | null {
  return start === undefined && end === undefined ? null : { start: isoDate(start), end: isoDate(end) };
}

function money(record: { totalCost: string; currencyCode?: string; currencyLocale?: string }): Money {
  return {
    totalCost: record.totalCost,
    currencyCode: record.currencyCode ?? null,
    currencyLocale: record.currencyLocale ?? null,
  };
}

/**
 * The one rule for `usdTotalCost`: a USD figure only where Partner Center prices in a currency
 * (Azure plans, `currencyCode`). Legacy records are priced by locale and Partner Center sends a
 * placeholder 0 there (or nothing): that is no USD figure, so it is null on every route.
 */
function usd(record: { usdTotalCost?: string; currencyCode?: string }): string | null {
  return record.currencyCode === undefined ? null : (record.usdTotalCost ?? null);
}

export function snapshotMeta(
  info: SnapshotInfo,
  now: Date,
  staleAfterMs: number,
  fallbackPeriod?: { billingStartDate?: string; billingEndDate?: string },
): SnapshotMeta {
  const takenAt = Date.parse(info.takenAt);
  return {
    runId: info.runId,
    takenAt: isoDate(info.takenAt),
    billingPeriod: period(
      info.billingStartDate ?? fallbackPeriod?.billingStartDate,
      info.billingEndDate ?? fallbackPeriod?.billingEndDate,
    ),
    // An unreadable takenAt is treated as stale: better a false alarm than a silent old answer.
    stale: Number.isNaN(takenAt) || now.getTime() - takenAt > staleAfterMs,
  };
}

export function partnerSummaryBody(summary: PartnerUsageSummary): PartnerUsageSummaryBody {
  return {
    partnerId: summary.id,
    name: summary.name ?? null,
    customersOverBudget: summary.customersOverBudget,
    customersTrendingOver: summary.customersTrendingOver,
    customersWithUsageBasedSubscription: summary.customersWithUsageBasedSubscription,
    billingPeriod: { start: isoDate(summary.billingStartDate), end: isoDate(summary.billingEndDate) },
    ...money(summary),
    lastModifiedDate: isoDate(summary.lastModifiedDate),
  };
}

export function customerRecordBody(record: CustomerMonthlyUsageRecord): CustomerRecordBody {
  return {
    customerId: record.customerId,
    name: record.name ?? null,
    isUpgraded: record.isUpgraded,
    budget: record.budget ?? null,
    customerSpendingBudget: record.customerSpendingBudget ?? null,
    percentUsed: record.percentUsed ?? null,
    ...money(record),
    usdTotalCost: usd(record),
    lastModifiedDate: isoDate(record.lastModifiedDate),
  };
}

export function customerSummaryBody(summary: CustomerUsageSummary): CustomerSummaryBody {
  return {
    customerId: summary.customerId,
    name: summary.name ?? null,
    budget: summary.budget ?? null,
    billingPeriod: { start: isoDate(summary.billingStartDate), end: isoDate(summary.billingEndDate) },
    ...money(summary),
    usdTotalCost: usd(summary),
    lastModifiedDate: isoDate(summary.lastModifiedDate),
  };
}

export function subscriptionRecordBody(record: SubscriptionMonthlyUsageRecord): SubscriptionRecordBody {
  return {
    subscriptionId: record.subscriptionId,
    name: record.name ?? null,
    status: record.status,
    offerId: record.offerId,
    partnerOnRecord: record.partnerOnRecord ?? null,
    hasResourceBreakdown: hasResourceBreakdown(record),
    ...money(record),
    usdTotalCost: usd(record),
    lastModifiedDate: isoDate(record.lastModifiedDate),
  };
}

export function resourceRecordBody(record: AzureResourceMonthlyUsageRecord): ResourceRecordBody {
  return {
    resourceId: record.resourceId,
    name: record.name ?? null,
    category: record.category,
    subcategory: record.subcategory,
    quantityUsed: record.quantityUsed,
    unit: record.unit,
    ...money(record),
  };
}

export function historyPointBody(point: HistoryPoint): HistoryPointBody {
  return {
    runId: point.runId,
    takenAt: isoDate(point.takenAt),
    billingPeriod: period(point.billingStartDate, point.billingEndDate),
    totalCost: point.totalCost,
    usdTotalCost: usd(point),
    currencyCode: point.currencyCode ?? null,
    currencyLocale: point.currencyLocale ?? null,
  };
}

export function runBody(run: RunRecord): RunBody {
  return {
    runId: run.runId,
    state: run.state,
    trigger: run.trigger,
    correlationId: run.correlationId,
    requestedAt: isoDate(run.requestedAt),
    startedAt: isoDate(run.startedAt),
    finishedAt: isoDate(run.finishedAt),
    reason: run.reason ?? null,
    counts: {
      customersWritten: run.counts.customersWritten,
      customersFetched: run.counts.customersFetched ?? run.counts.customersWritten,
      customersCarriedOver: run.counts.customersCarriedOver ?? 0,
      customersFailed: run.counts.customersFailed,
      subscriptionsWritten: run.counts.subscriptionsWritten,
      subscriptionsFailed: run.counts.subscriptionsFailed ?? 0,
      resourcesWritten: run.counts.resourcesWritten,
    },
    invocations: run.invocations ?? 0,
  };
}
