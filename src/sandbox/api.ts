import type { CustomerProfile, SandboxData } from './data';
import { pcErrors, type SandboxResponse } from './errors';
import type { JsonValue } from './json';
import { nextLink, type ContinuationTokens } from './paging';
import {
  azureResourceMonthlyUsageRecord,
  collection,
  customerMonthlyUsageRecord,
  customerUsageSummary,
  partnerUsageSummary,
  subscriptionMonthlyUsageRecord,
  type PartnerProfile,
  type PartnerTotals,
} from './records';
import { customerUsage, resourceUsage, subscriptionUsage, type UsageMoment } from './usage';

/** Everything a Partner Center handler reads. */
export interface ApiContext {
  data: SandboxData;
  moment: UsageMoment;
  partner: PartnerProfile;
  pageSize: number;
  continuation: ContinuationTokens;
  /** The MS-ContinuationToken request header, if sent. */
  continuationToken: string | undefined;
  query: URLSearchParams;
  partnerTotals(moment: UsageMoment): PartnerTotals;
}

/** Which credentials a call accepts, per the "Prerequisites" of each documented call. */
export type AuthRule = 'appUser' | 'appOrAppUser';

export interface Route {
  /** Stable name used by the counters. */
  template: string;
  pattern: RegExp;
  auth: AuthRule;
  /** Counted per partner + customer by the throttle, as well as per partner. */
  customerScoped: boolean;
  handle(context: ApiContext, params: string[]): SandboxResponse;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ROUTES: readonly Route[] = [
  {
    template: 'GET /v1/usagesummary',
    pattern: /^\/v1\/usagesummary\/?$/i,
    auth: 'appUser',
    customerScoped: false,
    handle: (context) =>
      ok(partnerUsageSummary(context.partner, context.partnerTotals(context.moment), context.moment)),
  },
  {
    template: 'GET /v1/customers/usagerecords',
    pattern: /^\/v1\/customers\/usagerecords\/?$/i,
    auth: 'appUser',
    customerScoped: false,
    handle: (context) =>
      page(context, 'customers', '/customers/usagerecords', context.data.customerCount, (from, to) =>
        Array.from(context.data.customers(from, to), (customer) =>
          customerMonthlyUsageRecord(customerUsage(customer, context.moment), context.moment),
        ),
      ),
  },
  {
    template: 'GET /v1/customers/{customerId}/usagesummary',
    pattern: /^\/v1\/customers\/([^/]+)\/usagesummary\/?$/i,
    auth: 'appUser',
    customerScoped: true,
    handle: (context, [customerId]) =>
      withCustomer(context, customerId, (customer) =>
        customer.subscriptions.length === 0
          ? pcErrors.noUsageData()
          : ok(customerUsageSummary(customerUsage(customer, context.moment), context.moment)),
      ),
  },
  {
    template: 'GET /v1/customers/{customerId}/subscriptions/usagerecords',
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/usagerecords\/?$/i,
    auth: 'appUser',
    customerScoped: true,
    handle: (context, [customerId]) =>
      withCustomer(context, customerId, (customer) => {
        const path = `/customers/${customer.id}/subscriptions/usagerecords`;
        return page(context, path, path, customer.subscriptions.length, (from, to) =>
          customer.subscriptions
            .slice(from, to)
            .map((s) =>
              subscriptionMonthlyUsageRecord(
                customer,
                subscriptionUsage(customer, s, context.moment),
                context.moment,
              ),
            ),
        );
      }),
  },
  {
    template: 'GET /v1/customers/{customerId}/subscriptions/{subscriptionId}/usagerecords/resources',
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/usagerecords\/resources\/?$/i,
    auth: 'appOrAppUser',
    customerScoped: true,
    handle: (context, [customerId, subscriptionId]) =>
      withCustomer(context, customerId, (customer) => {
        const subscription = customer.subscriptions.find(
          (s) => s.id.toLowerCase() === subscriptionId.toLowerCase(),
        );
        if (!subscription) return pcErrors.subscriptionNotFound(subscriptionId);
        if (customer.kind === 'azurePlan') return pcErrors.azurePlanResources();
        const usage = resourceUsage(
          subscriptionUsage(customer, subscription, context.moment),
          context.data.resources(customer, subscription),
          context.moment,
        );
        const path = `/customers/${customer.id}/subscriptions/${subscription.id}/usagerecords/resources`;
        return page(context, path, path, usage.length, (from, to) =>
          usage.slice(from, to).map((r) => azureResourceMonthlyUsageRecord(customer, r)),
        );
      }),
  },
];

function ok(body: JsonValue): SandboxResponse {
  return { status: 200, body };
}

function withCustomer(
  context: ApiContext,
  customerId: string,
  handle: (customer: CustomerProfile) => SandboxResponse,
): SandboxResponse {
  const id = decodeURIComponent(customerId);
  if (!GUID.test(id)) return pcErrors.notAGuid();
  const customer = context.data.findCustomer(id);
  return customer ? handle(customer) : pcErrors.customerNotFound(id);
}

/** One page of a collection, from the offset the continuation token names. */
function page(
  context: ApiContext,
  collectionKey: string,
  path: string,
  total: number,
  build: (from: number, to: number) => JsonValue[],
): SandboxResponse {
  let offset = 0;
  if (context.continuationToken !== undefined) {
    const check = context.continuation.read(
      collectionKey,
      context.continuationToken,
      context.moment.period.start,
    );
    if (!check.ok) return pcErrors.badContinuationToken(check.reason);
    offset = check.offset;
  } else if (context.query.get('seekOperation')?.toLowerCase() === 'next') {
    return pcErrors.badContinuationToken('seekOperation=Next without an MS-ContinuationToken header');
  }
  const end = Math.min(total, offset + context.pageSize);
  const next =
    end < total
      ? nextLink(
          path,
          context.pageSize,
          context.continuation.issue(collectionKey, end, context.moment.period.start),
        )
      : undefined;
  return ok(collection(build(offset, end), path, next));
}
