import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import { hasResourceBreakdown } from '../domain/usage';
import type {
  AzureSubscriptionCost,
  MeterUsageRecord,
  ResourceGroupCost,
  ResourceUsageRecord,
  SubscriptionUsageSummary,
} from '../domain/azurePlan';
import type { HistoryPoint, ResourceGroupHistoryPoint, SnapshotInfo } from '../domain/usageReader';
import type { RunRecord } from '../domain/runs';
import type { z } from 'zod';
import { ISO_DATE_PREFIX } from '../domain/patterns';
import type { BudgetChange, EffectiveBudget } from '../domain/budget';
import type { CustomerTotals } from '../domain/customerTotals';
import type {
  AzureSubscriptionCostSchema,
  BillingPeriodSchema,
  MeterRecordSchema,
  ResourceGroupCostSchema,
  ResourceGroupHistoryPointSchema,
  SubscriptionUsageSummarySchema,
  CustomerRecordSchema,
  CustomerUsageSummarySchema,
  HistoryPointSchema,
  PartnerUsageSummarySchema,
  ResourceRecordSchema,
  RunSchema,
  SnapshotSchema,
  SubscriptionRecordSchema,
  SubscriptionResourcesSchema,
  BudgetChangeSchema,
  CustomerBudgetSchema,
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
export type SubscriptionSummaryBody = z.infer<typeof SubscriptionUsageSummarySchema>;
export type MeterRecordBody = z.infer<typeof MeterRecordSchema>;
export type ResourceGroupCostBody = z.infer<typeof ResourceGroupCostSchema>;
export type AzureSubscriptionCostBody = z.infer<typeof AzureSubscriptionCostSchema>;
export type ResourceGroupHistoryPointBody = z.infer<typeof ResourceGroupHistoryPointSchema>;

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

export function partnerSummaryBody(
  summary: PartnerUsageSummary,
  customerTotals?: CustomerTotals,
): PartnerUsageSummaryBody {
  return {
    partnerId: summary.id,
    name: summary.name ?? null,
    customersOverBudget: summary.customersOverBudget,
    customersTrendingOver: summary.customersTrendingOver,
    customersWithUsageBasedSubscription: summary.customersWithUsageBasedSubscription,
    billingPeriod: { start: isoDate(summary.billingStartDate), end: isoDate(summary.billingEndDate) },
    ...money(summary),
    lastModifiedDate: isoDate(summary.lastModifiedDate),
    customerTotals: customerTotals
      ? {
          byCurrency: customerTotals.byCurrency.map((t) => ({
            currencyCode: t.currencyCode ?? null,
            currencyLocale: t.currencyLocale ?? null,
            totalCost: t.totalCost,
            customers: t.customers,
            azurePlanCustomers: t.azurePlanCustomers,
          })),
          usd: customerTotals.usd,
          customers: customerTotals.customers,
          customersWithoutTotal: customerTotals.customersWithoutTotal,
        }
      : null,
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

/** The Azure-plan fields of a resource record, all null: what a legacy record has of them. */
const NO_PLAN_FIELDS = {
  resourceUri: null,
  resourceType: null,
  azureSubscriptionId: null,
  azureSubscriptionName: null,
  resourceGroup: null,
  usdTotalCost: null,
  lastModifiedDate: null,
} as const;

export function resourceRecordBody(record: AzureResourceMonthlyUsageRecord): ResourceRecordBody {
  return {
    resourceId: record.resourceId,
    name: record.name ?? null,
    category: record.category,
    subcategory: record.subcategory,
    quantityUsed: record.quantityUsed,
    unit: record.unit,
    ...money(record),
    kind: 'legacy',
    ...NO_PLAN_FIELDS,
  };
}

/** An Azure plan's resource record in the same shape as a legacy one; `resourceId` is its URI. */
export function planResourceRecordBody(record: ResourceUsageRecord): ResourceRecordBody {
  return {
    resourceId: record.resourceUri,
    name: record.name ?? null,
    category: null,
    subcategory: null,
    quantityUsed: null,
    unit: null,
    ...money(record),
    kind: 'azurePlan',
    resourceUri: record.resourceUri,
    resourceType: record.resourceType ?? null,
    azureSubscriptionId: record.entitlementId ?? null,
    azureSubscriptionName: record.entitlementName ?? null,
    resourceGroup: record.resourceGroupName ?? null,
    usdTotalCost: usd(record),
    lastModifiedDate: isoDate(record.lastModifiedDate),
  };
}

export function subscriptionSummaryBody(summary: SubscriptionUsageSummary): SubscriptionSummaryBody {
  return {
    subscriptionId: summary.subscriptionId,
    name: summary.name ?? null,
    billingPeriod: { start: isoDate(summary.billingStartDate), end: isoDate(summary.billingEndDate) },
    ...money(summary),
    usdTotalCost: usd(summary),
    lastModifiedDate: isoDate(summary.lastModifiedDate),
  };
}

export function meterRecordBody(record: MeterUsageRecord): MeterRecordBody {
  return {
    meterId: record.meterId,
    meterName: record.meterName ?? null,
    category: record.category ?? null,
    subcategory: record.subcategory ?? null,
    quantityUsed: record.quantityUsed,
    unit: record.unit ?? null,
    ...money(record),
    usdTotalCost: usd(record),
    lastModifiedDate: isoDate(record.lastModifiedDate),
  };
}

/** Sums carry no currency when a group has no resources: the plan's record names it then. */
const planMoney = (
  cost: { totalCost: string; currencyCode?: string; currencyLocale?: string; usdTotalCost?: string },
  plan: SubscriptionMonthlyUsageRecord,
) => {
  const currency =
    cost.currencyCode === undefined && cost.currencyLocale === undefined
      ? { currencyCode: plan.currencyCode, currencyLocale: plan.currencyLocale }
      : cost;
  const priced = { totalCost: cost.totalCost, ...currency };
  return { ...money(priced), usdTotalCost: usd({ ...priced, usdTotalCost: cost.usdTotalCost }) };
};

export function resourceGroupCostBody(
  cost: ResourceGroupCost,
  plan: SubscriptionMonthlyUsageRecord,
): ResourceGroupCostBody {
  const { totalCost, currencyCode, currencyLocale, usdTotalCost } = planMoney(cost, plan);
  return {
    azureSubscriptionId: cost.azureSubscriptionId ?? null,
    azureSubscriptionName: cost.azureSubscriptionName ?? null,
    resourceGroup: cost.resourceGroup ?? null,
    resourceCount: cost.resourceCount,
    totalCost,
    currencyCode,
    currencyLocale,
    usdTotalCost,
  };
}

export function azureSubscriptionCostBody(
  cost: AzureSubscriptionCost,
  plan: SubscriptionMonthlyUsageRecord,
): AzureSubscriptionCostBody {
  const { totalCost, currencyCode, currencyLocale, usdTotalCost } = planMoney(cost, plan);
  return {
    azureSubscriptionId: cost.azureSubscriptionId,
    friendlyName: cost.friendlyName ?? null,
    status: cost.status ?? null,
    listed: cost.listed,
    resourceCount: cost.resourceCount,
    resourceGroupCount: cost.resourceGroupCount,
    totalCost,
    currencyCode,
    currencyLocale,
    usdTotalCost,
  };
}

export function resourceGroupHistoryPointBody(
  point: ResourceGroupHistoryPoint,
): ResourceGroupHistoryPointBody {
  const { totalCost, usdTotalCost, currencyCode, currencyLocale, ...rest } = historyPointBody(point);
  return {
    ...rest,
    azureSubscriptionId: point.azureSubscriptionId ?? null,
    resourceGroup: point.resourceGroup ?? null,
    resourceCount: point.resourceCount,
    totalCost,
    usdTotalCost,
    currencyCode,
    currencyLocale,
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

export type CustomerBudgetBody = z.infer<typeof CustomerBudgetSchema>;
export type BudgetChangeBody = z.infer<typeof BudgetChangeSchema>;

export function customerBudgetBody(customerId: string, budget: EffectiveBudget): CustomerBudgetBody {
  return { customerId, amount: budget.amount ?? null, source: budget.source, asOf: isoDate(budget.asOf) };
}

export function budgetChangeBody(change: BudgetChange): BudgetChangeBody {
  return {
    changeId: change.changeId,
    customerId: change.customerId,
    state: change.state,
    requestedAt: isoDate(change.requestedAt),
    appliedAt: isoDate(change.appliedAt),
    oldAmount: change.oldAmount ?? null,
    requestedAmount: change.requestedAmount ?? null,
    newAmount: change.newAmount ?? null,
    changedBy: { key: change.actor.key, principal: change.actor.principal ?? null },
  };
}
