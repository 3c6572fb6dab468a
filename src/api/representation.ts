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

/**
 * Domain → response bodies. Every documented field is always present (null when Partner Center
 * did not send it), names are camelCase, dates ISO-8601 UTC, and money is flat: the exact decimal
 * string in `totalCost` (and `budget`, …) next to `currencyCode` (ISO 4217, Azure plans) or
 * `currencyLocale` (legacy customers, e.g. "fr-FR"), plus `usdTotalCost` where Partner Center
 * gives one. The shapes here are the ones src/api/openapi.ts documents.
 */

export interface BillingPeriod {
  start: string | null;
  end: string | null;
}

export interface SnapshotMeta {
  runId: string;
  takenAt: string;
  billingPeriod: BillingPeriod | null;
  stale: boolean;
}

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

export interface PartnerUsageSummaryBody extends Money {
  partnerId: string;
  name: string | null;
  customersOverBudget: number;
  customersTrendingOver: number;
  customersWithUsageBasedSubscription: number;
  billingPeriod: BillingPeriod;
  lastModifiedDate: string | null;
}

export interface CustomerRecordBody extends Money {
  customerId: string;
  name: string | null;
  isUpgraded: boolean;
  budget: string | null;
  customerSpendingBudget: string | null;
  percentUsed: string | null;
  usdTotalCost: string | null;
  lastModifiedDate: string | null;
}

export interface CustomerSummaryBody extends Money {
  customerId: string;
  name: string | null;
  budget: string | null;
  billingPeriod: BillingPeriod;
  usdTotalCost: string | null;
  lastModifiedDate: string | null;
}

export interface SubscriptionRecordBody extends Money {
  subscriptionId: string;
  name: string | null;
  status: string;
  offerId: string;
  partnerOnRecord: string | null;
  hasResourceBreakdown: boolean;
  usdTotalCost: string | null;
  lastModifiedDate: string | null;
}

export interface ResourceRecordBody extends Money {
  resourceId: string;
  name: string | null;
  category: string;
  subcategory: string;
  quantityUsed: string;
  unit: string;
}

export interface SubscriptionResourcesBody {
  subscription: SubscriptionRecordBody;
  hasResourceBreakdown: boolean;
  resources: ResourceRecordBody[];
}

export interface HistoryPointBody extends Money {
  runId: string;
  takenAt: string;
  billingPeriod: BillingPeriod | null;
  usdTotalCost: string | null;
}

export interface RunBody {
  runId: string;
  state: RunRecord['state'];
  trigger: RunRecord['trigger'];
  correlationId: string;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  reason: string | null;
  counts: {
    customersWritten: number;
    customersFailed: number;
    subscriptionsWritten: number;
    subscriptionsFailed: number;
    resourcesWritten: number;
  };
  invocations: number;
}

/** ISO-8601 UTC when the text is a date; otherwise as stored (never invent a date). */
export function isoDate(value: string): string;
export function isoDate(value: string | undefined): string | null;
export function isoDate(value: string | undefined): string | null {
  if (value === undefined) return null;
  // Date.parse is lenient ("1" is 2001); only reformat text that already looks like ISO-8601.
  const time = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
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
    usdTotalCost: record.usdTotalCost ?? null,
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
    usdTotalCost: summary.usdTotalCost ?? null,
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
    usdTotalCost: record.usdTotalCost ?? null,
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
    usdTotalCost: point.usdTotalCost ?? null,
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
      customersFailed: run.counts.customersFailed,
      subscriptionsWritten: run.counts.subscriptionsWritten,
      subscriptionsFailed: run.counts.subscriptionsFailed ?? 0,
      resourcesWritten: run.counts.resourcesWritten,
    },
    invocations: run.invocations ?? 0,
  };
}
