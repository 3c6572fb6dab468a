import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';

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
