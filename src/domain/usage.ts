import { GUID } from './patterns';

/**
 * The usage data the app caches, as the Partner Center client hands it to the snapshot and the
 * storage adapter hands it to the API. Ids are lower-case GUID strings. Every amount is a
 * `Decimal`: the exact decimal text Partner Center sent (e.g. "120.5682999999995904716"), never
 * a JS number, because those amounts carry more digits than a double keeps.
 */
export type Decimal = string;

/** Legacy customers are priced by locale; Azure-plan customers by ISO currency code (+ USD). */
export interface Currency {
  currencyCode?: string;
  currencyLocale?: string;
}

export interface PartnerUsageSummary extends Currency {
  id: string;
  name?: string;
  customersOverBudget: number;
  customersTrendingOver: number;
  customersWithUsageBasedSubscription: number;
  billingStartDate: string;
  billingEndDate: string;
  totalCost: Decimal;
  lastModifiedDate?: string;
}

export interface CustomerMonthlyUsageRecord extends Currency {
  customerId: string;
  name?: string;
  /** budget.amount; absent when the customer has no spending budget set. */
  budget?: Decimal;
  /** customerSpendingBudget.amount, when sent. */
  customerSpendingBudget?: Decimal;
  percentUsed?: Decimal;
  /** True: the customer has an Azure plan. */
  isUpgraded: boolean;
  totalCost: Decimal;
  usdTotalCost?: Decimal;
  lastModifiedDate?: string;
}

export interface CustomerUsageSummary extends Currency {
  customerId: string;
  name?: string;
  budget?: Decimal;
  billingStartDate: string;
  billingEndDate: string;
  totalCost: Decimal;
  usdTotalCost?: Decimal;
  lastModifiedDate?: string;
}

export interface SubscriptionMonthlyUsageRecord extends Currency {
  subscriptionId: string;
  name?: string;
  status: string;
  /** "MS-AZR-0145P" for a legacy Microsoft Azure subscription; a product:sku:availability id for a plan. */
  offerId: string;
  partnerOnRecord?: string;
  totalCost: Decimal;
  usdTotalCost?: Decimal;
  lastModifiedDate?: string;
}

export interface AzureResourceMonthlyUsageRecord extends Currency {
  resourceId: string;
  name?: string;
  category: string;
  subcategory: string;
  quantityUsed: Decimal;
  unit: string;
  totalCost: Decimal;
}

export const LEGACY_AZURE_OFFER_ID = 'MS-AZR-0145P';

/** Only legacy Microsoft Azure subscriptions have a resource breakdown in these APIs. */
export function hasResourceBreakdown(subscription: Pick<SubscriptionMonthlyUsageRecord, 'offerId'>): boolean {
  return subscription.offerId.toUpperCase() === LEGACY_AZURE_OFFER_ID;
}

export function isGuid(value: string): boolean {
  return GUID.test(value);
}
