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
