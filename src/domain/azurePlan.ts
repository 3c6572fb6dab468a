import { addDecimals } from './decimal';
import type { Currency, Decimal } from './usage';

/**
 * The detail Partner Center gives of an Azure plan (a subscription whose offerId is not
 * MS-AZR-0145P), as the client hands it on. Amounts are exact decimal text, as in ./usage.ts.
 * Keys are kept as sent: a meter id or a resource URI may hold `/`, `\`, `#`, `?`, control
 * characters and run past 1 KiB, so neither may be used as a Table key as it is.
 */

/** `SubscriptionUsageSummary`: the current period's figures of one subscription (legacy or Azure plan). */
export interface SubscriptionUsageSummary extends Currency {
  /** `id`, else `resourceId`, lower-cased. */
  subscriptionId: string;
  name?: string;
  billingStartDate: string;
  billingEndDate: string;
  totalCost: Decimal;
  /** Azure plans only. */
  usdTotalCost?: Decimal;
  lastModifiedDate?: string;
}

/** `MeterUsageRecord`: an Azure plan's current period, aggregated per meter. */
export interface MeterUsageRecord extends Currency {
  /** The plan's id as the record states it, lower-cased; absent if Partner Center leaves it out. */
  subscriptionId?: string;
  /** Not a GUID: e.g. "DZH318Z0BNVX-005J-Data Transfer In (GB)". Kept exactly as sent. */
  meterId: string;
  meterName?: string;
  category?: string;
  subcategory?: string;
  quantityUsed: Decimal;
  unit?: string;
  totalCost: Decimal;
  /** Nullable in Partner Center's SDK; absent when null. */
  usdTotalCost?: Decimal;
  lastModifiedDate?: string;
}

/** `ResourceUsageRecord`: an Azure plan's current period per Azure resource, keyed by its URI. */
export interface ResourceUsageRecord extends Currency {
  subscriptionId?: string;
  /** Kept exactly as sent (case included); may exceed 1 KiB. */
  resourceUri: string;
  /** The resource provider, e.g. "Microsoft.Compute". */
  resourceType?: string;
  /** The Azure subscription under the plan, lower-cased. */
  entitlementId?: string;
  entitlementName?: string;
  resourceGroupName?: string;
  /** `name`, else `resourceName`. */
  name?: string;
  totalCost: Decimal;
  usdTotalCost?: Decimal;
  lastModifiedDate?: string;
}

/** An Azure subscription under an Azure plan (an item of azureEntitlements). */
export interface AzureEntitlement {
  /** The Azure subscription id, lower-cased. */
  id: string;
  friendlyName?: string;
  /** Undocumented values; "active" seen. */
  status?: string;
  /** The plan's Partner Center subscription id, lower-cased. */
  subscriptionId?: string;
}

/** `SpendingBudget` of usagebudget. */
export interface SpendingBudget {
  /** Undefined: the customer has no spending budget. */
  amount?: Decimal;
}

/**
 * What a snapshot stores of one subscription beyond its monthly record: its own usage summary
 * (both kinds) and, for an Azure plan, its meters, its resources and its Azure subscriptions.
 * Empty lists for a legacy subscription, whose resources keep their own shape (see ./usage.ts).
 */
export interface SubscriptionDetail {
  /** Undefined when Partner Center has no usage data for the subscription. */
  summary?: SubscriptionUsageSummary;
  meters: MeterUsageRecord[];
  resources: ResourceUsageRecord[];
  azureSubscriptions: AzureEntitlement[];
}

/** One resource group's cost: the sum of its resources' records, exact. */
export interface ResourceGroupCost extends Currency {
  /** The Azure subscription the group is in (`entitlementId`); undefined when the records omit it. */
  azureSubscriptionId?: string;
  azureSubscriptionName?: string;
  /** As the first record of the group spells it; undefined for resources outside any group. */
  resourceGroup?: string;
  resourceCount: number;
  totalCost: Decimal;
  /** Undefined unless every resource of the group carries a USD figure. */
  usdTotalCost?: Decimal;
}

/** One Azure subscription under a plan, with the sum of its resources' costs. */
export interface AzureSubscriptionCost extends Currency {
  azureSubscriptionId: string;
  friendlyName?: string;
  status?: string;
  /** False: resources name it but the plan's azureEntitlements did not list it. */
  listed: boolean;
  resourceCount: number;
  resourceGroupCount: number;
  totalCost: Decimal;
  usdTotalCost?: Decimal;
}

/**
 * Resource groups are named case-insensitively in Azure, and the same name can exist in several
 * Azure subscriptions of a plan: a group is (Azure subscription, lower-cased name).
 */
export function resourceGroupKey(
  azureSubscriptionId: string | undefined,
  resourceGroup: string | undefined,
): string {
  return `${azureSubscriptionId?.toLowerCase() ?? ''}/${resourceGroup?.toLowerCase() ?? ''}`;
}

/** Cost per (Azure subscription, resource group), summed exactly; in first-seen order. */
export function resourceGroupCosts(resources: readonly ResourceUsageRecord[]): ResourceGroupCost[] {
  const groups = new Map<string, ResourceUsageRecord[]>();
  for (const r of resources) {
    const key = resourceGroupKey(r.entitlementId, r.resourceGroupName);
    const members = groups.get(key);
    if (members) members.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((members) => {
    const first = members[0];
    return {
      azureSubscriptionId: first.entitlementId,
      azureSubscriptionName: members.find((m) => m.entitlementName !== undefined)?.entitlementName,
      resourceGroup: first.resourceGroupName,
      resourceCount: members.length,
      ...costOf(members),
    };
  });
}

/**
 * The plan's Azure subscriptions (azureEntitlements, in their order) with their resources' cost;
 * an Azure subscription that resources name but the list left out follows, marked `listed: false`.
 */
export function azureSubscriptionCosts(
  entitlements: readonly AzureEntitlement[],
  resources: readonly ResourceUsageRecord[],
): AzureSubscriptionCost[] {
  const byId = new Map<string, ResourceUsageRecord[]>();
  for (const e of entitlements) byId.set(e.id.toLowerCase(), []);
  for (const r of resources) {
    if (r.entitlementId === undefined) continue;
    const id = r.entitlementId.toLowerCase();
    const members = byId.get(id);
    if (members) members.push(r);
    else byId.set(id, [r]);
  }
  const listed = new Map(entitlements.map((e) => [e.id.toLowerCase(), e]));
  return [...byId.entries()].map(([id, members]) => {
    const entitlement = listed.get(id);
    return {
      azureSubscriptionId: id,
      friendlyName: entitlement?.friendlyName ?? members.find((m) => m.entitlementName)?.entitlementName,
      status: entitlement?.status,
      listed: entitlement !== undefined,
      resourceCount: members.length,
      resourceGroupCount: new Set(members.map((m) => resourceGroupKey(id, m.resourceGroupName))).size,
      ...costOf(members),
    };
  });
}

function costOf(
  members: readonly ResourceUsageRecord[],
): Currency & { totalCost: Decimal; usdTotalCost?: Decimal } {
  const usd = members.every((m) => m.usdTotalCost !== undefined)
    ? addDecimals(members.map((m) => m.usdTotalCost as Decimal))
    : undefined;
  return {
    totalCost: addDecimals(members.map((m) => m.totalCost)),
    ...(usd === undefined || members.length === 0 ? {} : { usdTotalCost: usd }),
    ...(members[0]?.currencyCode === undefined ? {} : { currencyCode: members[0].currencyCode }),
    ...(members[0]?.currencyLocale === undefined ? {} : { currencyLocale: members[0].currencyLocale }),
  };
}
