import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import type {
  AzureEntitlement,
  MeterUsageRecord,
  ResourceUsageRecord,
  SpendingBudget,
  SubscriptionUsageSummary,
} from '../domain/azurePlan';
import type { Decimal } from '../domain/usage';

export interface CallOptions {
  /** One per snapshot run; sent as MS-CorrelationId on every request of the run. */
  correlationId?: string;
  /** Cancels in-flight requests and pending retries (a function nearing its time limit). */
  signal?: AbortSignal;
}

/**
 * Partner Center's usage calls (see ../../../shared/partner-center.md). Collections are async
 * iterables that follow `links.next` page by page, so callers stream instead of holding a tenant.
 * Errors: PartnerCenterError (HTTP error with PC's code and both request ids),
 * ResponseShapeError (response did not match the contract; names the field),
 * ReconsentRequiredError (Entra said invalid_grant: a person must consent again).
 */
export interface PartnerCenterClient {
  getPartnerUsageSummary(options?: CallOptions): Promise<PartnerUsageSummary>;
  listCustomerUsageRecords(options?: CallOptions): AsyncIterable<CustomerMonthlyUsageRecord>;
  /** Undefined when Partner Center answers 3000 "Customer does not have usage data." (a normal state). */
  getCustomerUsageSummary(
    customerId: string,
    options?: CallOptions,
  ): Promise<CustomerUsageSummary | undefined>;
  listSubscriptionUsageRecords(
    customerId: string,
    options?: CallOptions,
  ): AsyncIterable<SubscriptionMonthlyUsageRecord>;
  /** Legacy MS-AZR-0145P subscriptions only (see hasResourceBreakdown). */
  listResourceUsageRecords(
    customerId: string,
    subscriptionId: string,
    options?: CallOptions,
  ): AsyncIterable<AzureResourceMonthlyUsageRecord>;
}

/**
 * Partner Center's per-subscription and budget calls, Azure plans' detail above all (see the
 * "Per Azure plan" notes). Kept apart from PartnerCenterClient so that callers and test doubles
 * of the snapshot's calls need not implement these until they use them; the client
 * createPartnerCenterClient returns implements both. Same errors as PartnerCenterClient.
 */
export interface AzurePlanUsageClient {
  /**
   * `…/subscriptions/{id}/usagesummary`, for a legacy subscription or an Azure plan (App+User).
   * Undefined on 3000 "does not have usage data.", as for the customer summary.
   */
  getSubscriptionUsageSummary(
    customerId: string,
    subscriptionId: string,
    options?: CallOptions,
  ): Promise<SubscriptionUsageSummary | undefined>;
  /** `…/subscriptions/{plan}/meterusagerecords` (Azure plans only; App+User). */
  listMeterUsageRecords(
    customerId: string,
    planId: string,
    options?: CallOptions,
  ): AsyncIterable<MeterUsageRecord>;
  /** `…/subscriptions/{plan}/resourceusagerecords` (Azure plans only; App+User). */
  listPlanResourceUsageRecords(
    customerId: string,
    planId: string,
    options?: CallOptions,
  ): AsyncIterable<ResourceUsageRecord>;
  /** `…/subscriptions/{plan}/azureEntitlements`: the Azure subscriptions under a plan (App-only or App+User). */
  listAzureEntitlements(
    customerId: string,
    planId: string,
    options?: CallOptions,
  ): AsyncIterable<AzureEntitlement>;
  /** `GET …/customers/{id}/usagebudget` (App-only or App+User). */
  getUsageBudget(customerId: string, options?: CallOptions): Promise<SpendingBudget>;
  /**
   * `PATCH …/customers/{id}/usagebudget` with the documented PascalCase body; `null` removes the
   * budget. Answers the budget as Partner Center now has it. A write: retried like a GET on
   * 429/408/5xx/network errors, which is safe because setting the same amount twice is harmless.
   * Throws InvalidBudgetAmountError, before any request, for anything but a plain non-negative decimal.
   */
  setUsageBudget(customerId: string, amount: Decimal | null, options?: CallOptions): Promise<SpendingBudget>;
}
