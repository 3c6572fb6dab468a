// Partner Center resources as JSON values, keys in the order of the documented examples.

import type { AzurePlanUsage, EntitlementProfile, MeterUsage, PlanResourceUsage } from './azurePlan';
import { RATE_SCALE } from './catalog';
import { formatPartnerCenterDate } from './clock';
import { QUANTITY_SCALE, type CustomerProfile, type SandboxData } from './data';
import { RawNumber, type JsonValue } from './json';
import { formatDecimal, mulDiv } from './money';
import {
  customerUsage,
  type CustomerUsage,
  type ResourceUsage,
  type SubscriptionUsage,
  type UsageMoment,
} from './usage';

// A type, not an interface, so it stays assignable to JsonValue.
export type Link = {
  uri: string;
  method: 'GET';
  headers: { key: string; value: string }[];
};

const money = (value: bigint) => new RawNumber(formatDecimal(value));
const attributes = (objectType: string) => ({ objectType });
const self = (uri: string): Link => ({ uri, method: 'GET', headers: [] });

function spendingBudget(customer: CustomerProfile, key: 'amount' | 'ammount' = 'amount'): JsonValue {
  if (customer.budget === undefined) return { attributes: attributes('SpendingBudget') };
  // The documented "ammount" example writes the figure as 300.000000.
  const amount = new RawNumber(key === 'ammount' ? customer.budget.toFixed(6) : String(customer.budget));
  return { [key]: amount, attributes: attributes('SpendingBudget') };
}

function currencyFields(customer: CustomerProfile, usdTotalCost: bigint): Record<string, JsonValue> {
  // Legacy records carry currencyLocale and, in the documented examples, a usdTotalCost of 0.
  return customer.kind === 'legacy'
    ? { currencyLocale: customer.currencyLocale, usdTotalCost: 0 }
    : { currencyCode: customer.currencyCode, usdTotalCost: money(usdTotalCost) };
}

export interface PartnerTotals {
  customersOverBudget: number;
  customersTrendingOver: number;
  customersWithUsageBasedSubscription: number;
  /** USD, 10^-18 units: legacy customers only, as documented ("excludes Azure plan consumption"). */
  legacyUsd: bigint;
}

/** Walks every customer once; the server caches the result per usage moment. */
export function partnerTotals(
  data: SandboxData,
  moment: UsageMoment,
  momentOf: (customer: CustomerProfile) => UsageMoment = () => moment,
): PartnerTotals {
  const totals: PartnerTotals = {
    customersOverBudget: 0,
    customersTrendingOver: 0,
    customersWithUsageBasedSubscription: 0,
    legacyUsd: 0n,
  };
  for (const customer of data.customers()) {
    if (customer.subscriptions.length === 0) continue;
    const usage = customerUsage(customer, momentOf(customer));
    totals.customersWithUsageBasedSubscription++;
    if (usage.overBudget) totals.customersOverBudget++;
    if (usage.trendingOver) totals.customersTrendingOver++;
    if (customer.kind === 'legacy') totals.legacyUsd += usage.usdTotalCost;
  }
  return totals;
}

export interface PartnerProfile {
  tenantId: string;
  name: string;
  currencyLocale: string;
  /** Partner currency units per USD times 10^10. */
  rate: bigint;
}

export function partnerUsageSummary(
  partner: PartnerProfile,
  totals: PartnerTotals,
  moment: UsageMoment,
): JsonValue {
  return {
    customersOverBudget: totals.customersOverBudget,
    customersTrendingOver: totals.customersTrendingOver,
    customersWithUsageBasedSubscription: totals.customersWithUsageBasedSubscription,
    resourceId: partner.tenantId,
    id: partner.tenantId,
    resourceName: partner.name,
    name: partner.name,
    billingStartDate: formatPartnerCenterDate(moment.period.start),
    billingEndDate: formatPartnerCenterDate(moment.period.end),
    totalCost: money(mulDiv(totals.legacyUsd, partner.rate, RATE_SCALE)),
    currencyLocale: partner.currencyLocale,
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    links: { self: self('/usagesummary') },
    attributes: attributes('PartnerUsageSummary'),
  };
}

export function customerMonthlyUsageRecord(usage: CustomerUsage, moment: UsageMoment): JsonValue {
  const { customer } = usage;
  return {
    budget: spendingBudget(customer),
    customerSpendingBudget: customer.hasCustomerSpendingBudget ? spendingBudget(customer) : undefined,
    percentUsed: new RawNumber(usage.percentUsed),
    isUpgraded: customer.kind === 'azurePlan',
    resourceId: customer.id,
    id: customer.id,
    resourceName: customer.name,
    name: customer.name,
    totalCost: money(usage.totalCost),
    ...currencyFields(customer, usage.usdTotalCost),
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    attributes: attributes('CustomerMonthlyUsageRecord'),
  };
}

export function customerUsageSummary(usage: CustomerUsage, moment: UsageMoment): JsonValue {
  const { customer } = usage;
  const naming = customer.summaryNaming;
  const withResourceKeys = naming !== 'idAndName';
  const withIdKeys = naming !== 'resourceIdAndName';
  const currency: Record<string, JsonValue> =
    customer.kind === 'legacy'
      ? { currencyLocale: customer.currencyLocale }
      : { currencyCode: customer.currencyCode, usdTotalCost: money(usage.usdTotalCost) };
  return {
    budget: spendingBudget(customer, customer.budgetKey),
    resourceId: withResourceKeys ? customer.id : undefined,
    id: withIdKeys ? customer.id : undefined,
    resourceName: withResourceKeys ? customer.name : undefined,
    name: withIdKeys ? customer.name : undefined,
    billingStartDate: formatPartnerCenterDate(moment.period.start),
    billingEndDate: formatPartnerCenterDate(moment.period.end),
    totalCost: money(usage.totalCost),
    ...currency,
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    // The documented resourceId-only example carries no links either.
    links: withIdKeys ? { self: self(`/customers/${customer.id}/usagesummary`) } : undefined,
    attributes: attributes('CustomerUsageSummary'),
  };
}

export function subscriptionMonthlyUsageRecord(
  customer: CustomerProfile,
  usage: SubscriptionUsage,
  moment: UsageMoment,
): JsonValue {
  const { subscription } = usage;
  return {
    status: subscription.status,
    partnerOnRecord: subscription.partnerOnRecord,
    offerId: subscription.offerId,
    resourceId: subscription.id,
    id: subscription.id,
    resourceName: subscription.name,
    name: subscription.name,
    totalCost: money(usage.totalCost),
    ...currencyFields(customer, usage.usdTotalCost),
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    attributes: attributes('SubscriptionMonthlyUsageRecord'),
  };
}

export function azureResourceMonthlyUsageRecord(customer: CustomerProfile, usage: ResourceUsage): JsonValue {
  const { resource } = usage;
  return {
    category: resource.category,
    subcategory: resource.subcategory,
    quantityUsed: new RawNumber(formatDecimal(usage.quantityUsed, QUANTITY_SCALE)),
    unit: resource.unit,
    id: resource.id,
    name: resource.name,
    totalCost: money(usage.totalCost),
    currencyLocale: customer.currencyLocale,
    attributes: attributes('AzureResourceMonthlyUsageRecord'),
  };
}

/** `SubscriptionUsageSummary`: legacy with id/name/currencyLocale, an Azure plan with resourceId/resourceName/currencyCode/usdTotalCost. */
export function subscriptionUsageSummary(
  customer: CustomerProfile,
  usage: SubscriptionUsage,
  moment: UsageMoment,
): JsonValue {
  const { subscription } = usage;
  const legacy = customer.kind === 'legacy';
  return {
    resourceId: legacy ? undefined : subscription.id,
    id: legacy ? subscription.id : undefined,
    resourceName: legacy ? undefined : subscription.name,
    name: legacy ? subscription.name : undefined,
    billingStartDate: formatPartnerCenterDate(moment.period.start),
    billingEndDate: formatPartnerCenterDate(moment.period.end),
    totalCost: money(usage.totalCost),
    ...(legacy
      ? { currencyLocale: customer.currencyLocale }
      : { currencyCode: customer.currencyCode, usdTotalCost: money(usage.usdTotalCost) }),
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    links: legacy
      ? { self: self(`/customers/${customer.id}/subscriptions/${subscription.id}/usagesummary`) }
      : undefined,
    attributes: attributes('SubscriptionUsageSummary'),
  };
}

export function meterUsageRecord(
  customer: CustomerProfile,
  plan: AzurePlanUsage,
  usage: MeterUsage,
  moment: UsageMoment,
): JsonValue {
  const { meter } = usage;
  return {
    subscriptionId: plan.plan.subscription.id,
    meterId: meter.meterId,
    meterName: meter.meterName,
    category: meter.category,
    subcategory: meter.subcategory,
    quantityUsed: new RawNumber(formatDecimal(usage.quantityUsed, QUANTITY_SCALE)),
    unit: meter.unit,
    totalCost: money(usage.totalCost),
    currencyCode: customer.currencyCode,
    usdTotalCost: money(usage.usdTotalCost),
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    attributes: attributes('MeterUsageRecord'),
  };
}

export function resourceUsageRecord(
  customer: CustomerProfile,
  plan: AzurePlanUsage,
  usage: PlanResourceUsage,
  moment: UsageMoment,
): JsonValue {
  const { resource, entitlement } = usage;
  return {
    subscriptionId: plan.plan.subscription.id,
    resourceUri: resource.resourceUri,
    resourceType: resource.resourceType,
    entitlementId: entitlement.id,
    entitlementName: entitlement.friendlyName,
    resourceGroupName: resource.resourceGroup,
    name: resource.name,
    resourceName: resource.name,
    totalCost: money(usage.totalCost),
    currencyCode: customer.currencyCode,
    usdTotalCost: money(usage.usdTotalCost),
    lastModifiedDate: formatPartnerCenterDate(moment.asOf),
    attributes: attributes('ResourceUsageRecord'),
  };
}

/** An item of the azureEntitlements collection; the documented item carries no attributes. */
export function azureEntitlement(entitlement: EntitlementProfile, planId: string): JsonValue {
  return {
    id: entitlement.id,
    friendlyName: entitlement.friendlyName,
    status: entitlement.status,
    subscriptionId: planId,
  };
}

/** `SpendingBudget` as usagebudget answers it: `amount` null when no budget is set. */
export function usageBudget(customer: CustomerProfile): JsonValue {
  return {
    amount: customer.budget === undefined ? null : new RawNumber(String(customer.budget)),
    links: { self: self(`/customers/${customer.id}/usagebudget`) },
    attributes: attributes('SpendingBudget'),
  };
}

/** A page of a collection; totalCount is the number of items on this page, as observed. */
export function collection(
  items: JsonValue[],
  selfUri: string | undefined,
  next: Link | undefined,
): JsonValue {
  return {
    totalCount: items.length,
    items,
    // The documented azureEntitlements answer has no links at all; paged, it gains links.next.
    links:
      selfUri === undefined && next === undefined
        ? undefined
        : { self: selfUri ? self(selfUri) : undefined, next },
    attributes: attributes('Collection'),
  };
}
