import { isLosslessNumber, parse } from 'lossless-json';
import { azurePlanUsage, type AzurePlanUsage } from './azurePlan';
import type { CustomerProfile, SandboxData, SubscriptionProfile } from './data';
import { pcErrors, type SandboxResponse } from './errors';
import type { JsonValue } from './json';
import type { PagedCollection, PageSizes } from './options';
import { nextLink, type ContinuationTokens } from './paging';
import {
  azureResourceMonthlyUsageRecord,
  azureEntitlement,
  collection,
  customerMonthlyUsageRecord,
  customerUsageSummary,
  meterUsageRecord,
  partnerUsageSummary,
  resourceUsageRecord,
  subscriptionMonthlyUsageRecord,
  subscriptionUsageSummary,
  usageBudget,
  type PartnerProfile,
  type PartnerTotals,
} from './records';
import { customerUsage, resourceUsage, subscriptionUsage, type UsageMoment } from './usage';

/** Everything a Partner Center handler reads. */
export interface ApiContext {
  data: SandboxData;
  moment: UsageMoment;
  /** The moment one customer's usage stands at (`moment`, unless only a share of customers moves). */
  momentOf(customer: CustomerProfile): UsageMoment;
  partner: PartnerProfile;
  pageSize: number;
  pageSizes: PageSizes;
  continuation: ContinuationTokens;
  /** The MS-ContinuationToken request header, if sent. */
  continuationToken: string | undefined;
  query: URLSearchParams;
  /** The request body (PATCH only). */
  body: string | undefined;
  partnerTotals(moment: UsageMoment): PartnerTotals;
}

/** Which credentials a call accepts, per the "Prerequisites" of each documented call. */
export type AuthRule = 'appUser' | 'appOrAppUser';

export interface Route {
  /** Stable name used by the counters. */
  template: string;
  pattern: RegExp;
  /** Default GET. */
  method?: 'GET' | 'PATCH';
  auth: AuthRule;
  /** Counted per partner + customer by the throttle, as well as per partner. */
  customerScoped: boolean;
  handle(context: ApiContext, params: string[]): SandboxResponse;
}

const USAGE_BUDGET = /^\/v1\/customers\/([^/]+)\/usagebudget\/?$/i;
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
      page(
        context,
        'customers',
        'customers',
        '/customers/usagerecords',
        context.data.customerCount,
        (from, to) =>
          Array.from(context.data.customers(from, to), (customer) =>
            customerMonthlyUsageRecord(
              customerUsage(customer, context.momentOf(customer)),
              context.momentOf(customer),
            ),
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
          : ok(
              customerUsageSummary(
                customerUsage(customer, context.momentOf(customer)),
                context.momentOf(customer),
              ),
            ),
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
        return page(context, 'subscriptions', path, path, customer.subscriptions.length, (from, to) =>
          customer.subscriptions
            .slice(from, to)
            .map((s) =>
              subscriptionMonthlyUsageRecord(
                customer,
                subscriptionUsage(customer, s, context.momentOf(customer)),
                context.momentOf(customer),
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
        const subscription = findSubscription(customer, subscriptionId);
        if (!subscription) return pcErrors.subscriptionNotFound(subscriptionId);
        if (customer.kind === 'azurePlan') return pcErrors.azurePlanResources();
        const usage = resourceUsage(
          subscriptionUsage(customer, subscription, context.momentOf(customer)),
          context.data.resources(customer, subscription),
          context.momentOf(customer),
        );
        const path = `/customers/${customer.id}/subscriptions/${subscription.id}/usagerecords/resources`;
        return page(context, 'resources', path, path, usage.length, (from, to) =>
          usage.slice(from, to).map((r) => azureResourceMonthlyUsageRecord(customer, r)),
        );
      }),
  },
  {
    template: 'GET /v1/customers/{customerId}/subscriptions/{subscriptionId}/usagesummary',
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/usagesummary\/?$/i,
    auth: 'appUser',
    customerScoped: true,
    handle: (context, [customerId, subscriptionId]) =>
      withCustomer(context, customerId, (customer) => {
        const subscription = findSubscription(customer, subscriptionId);
        if (!subscription) return pcErrors.subscriptionNotFound(subscriptionId);
        const usage = subscriptionUsage(customer, subscription, context.momentOf(customer));
        return ok(subscriptionUsageSummary(customer, usage, context.momentOf(customer)));
      }),
  },
  {
    template: 'GET /v1/customers/{customerId}/subscriptions/{subscriptionId}/meterusagerecords',
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/meterusagerecords\/?$/i,
    auth: 'appUser',
    customerScoped: true,
    handle: (context, [customerId, subscriptionId]) =>
      withPlan(context, customerId, subscriptionId, 'Meter usage records', (customer, plan, path) =>
        page(
          context,
          'meterUsageRecords',
          `${path}/meterusagerecords`,
          `${path}/meterusagerecords`,
          plan.meters.length,
          (from, to) =>
            plan.meters
              .slice(from, to)
              .map((m) => meterUsageRecord(customer, plan, m, context.momentOf(customer))),
        ),
      ),
  },
  {
    template: 'GET /v1/customers/{customerId}/subscriptions/{subscriptionId}/resourceusagerecords',
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/resourceusagerecords\/?$/i,
    auth: 'appUser',
    customerScoped: true,
    handle: (context, [customerId, subscriptionId]) =>
      withPlan(context, customerId, subscriptionId, 'Resource usage records', (customer, plan, path) =>
        page(
          context,
          'resourceUsageRecords',
          `${path}/resourceusagerecords`,
          `${path}/resourceusagerecords`,
          plan.resources.length,
          (from, to) =>
            plan.resources
              .slice(from, to)
              .map((r) => resourceUsageRecord(customer, plan, r, context.momentOf(customer))),
        ),
      ),
  },
  {
    template: 'GET /v1/customers/{customerId}/subscriptions/{subscriptionId}/azureEntitlements',
    pattern: /^\/v1\/customers\/([^/]+)\/subscriptions\/([^/]+)\/azureEntitlements\/?$/i,
    auth: 'appOrAppUser',
    customerScoped: true,
    handle: (context, [customerId, subscriptionId]) =>
      withPlan(context, customerId, subscriptionId, 'Azure entitlements', (_customer, plan, path) => {
        const { entitlements } = plan.profile;
        return page(
          context,
          'azureEntitlements',
          `${path}/azureEntitlements`,
          undefined,
          entitlements.length,
          (from, to) =>
            entitlements.slice(from, to).map((e) => azureEntitlement(e, plan.plan.subscription.id)),
        );
      }),
  },
  {
    template: 'GET /v1/customers/{customerId}/usagebudget',
    pattern: USAGE_BUDGET,
    auth: 'appOrAppUser',
    customerScoped: true,
    handle: (context, [customerId]) =>
      withCustomer(context, customerId, (customer) => ok(usageBudget(customer))),
  },
  {
    template: 'PATCH /v1/customers/{customerId}/usagebudget',
    pattern: USAGE_BUDGET,
    method: 'PATCH',
    auth: 'appOrAppUser',
    customerScoped: true,
    handle: (context, [customerId]) =>
      withCustomer(context, customerId, (customer) => {
        const amount = budgetAmount(context.body);
        if (!amount.ok) return pcErrors.badBudget(amount.reason);
        context.data.setBudget(customer, amount.value);
        return ok(usageBudget({ ...customer, budget: amount.value }));
      }),
  },
];

function findSubscription(
  customer: CustomerProfile,
  subscriptionId: string,
): SubscriptionProfile | undefined {
  const id = decodeURIComponent(subscriptionId).toLowerCase();
  return customer.subscriptions.find((s) => s.id.toLowerCase() === id);
}

/** Runs `handle` for an Azure plan of the customer; a legacy subscription is refused. */
function withPlan(
  context: ApiContext,
  customerId: string,
  subscriptionId: string,
  call: string,
  handle: (customer: CustomerProfile, plan: AzurePlanUsage, path: string) => SandboxResponse,
): SandboxResponse {
  return withCustomer(context, customerId, (customer) => {
    const subscription = findSubscription(customer, subscriptionId);
    if (!subscription) return pcErrors.subscriptionNotFound(subscriptionId);
    if (customer.kind !== 'azurePlan') return pcErrors.legacySubscription(call);
    const plan = azurePlanUsage(
      subscriptionUsage(customer, subscription, context.momentOf(customer)),
      context.data.azurePlan(customer, subscription),
      context.momentOf(customer),
    );
    return handle(customer, plan, `/customers/${customer.id}/subscriptions/${subscription.id}`);
  });
}

// Budgets are kept as JS numbers; 15 significant digits is what a double carries exactly.
const BUDGET_TEXT = /^(0|[1-9]\d*)(\.\d{1,6})?$/;

/**
 * The Amount of a PATCH body as documented, `{"Amount": 100, "Attributes": {"ObjectType":
 * "SpendingBudget"}}`; camelCase keys are accepted too. Null removes the budget.
 */
function budgetAmount(
  body: string | undefined,
): { ok: true; value: number | undefined } | { ok: false; reason: string } {
  let parsed: unknown;
  try {
    parsed = parse(body ?? '');
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { ok: false, reason: 'the body is not a SpendingBudget object' };
  const fields = parsed as Record<string, unknown>;
  const amount = 'Amount' in fields ? fields.Amount : fields.amount;
  if (amount === null) return { ok: true, value: undefined };
  if (!isLosslessNumber(amount)) return { ok: false, reason: 'Amount must be a number or null' };
  const text = amount.value;
  if (!BUDGET_TEXT.test(text) || text.replace(/^0+|\./g, '').length > 15)
    return { ok: false, reason: 'Amount must be zero or more, with at most 6 decimals and 15 digits' };
  return { ok: true, value: Number(text) };
}

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
  kind: PagedCollection,
  collectionKey: string,
  path: string | undefined,
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
  const pageSize = context.pageSizes[kind] ?? context.pageSize;
  const end = Math.min(total, offset + pageSize);
  const next =
    end < total
      ? nextLink(
          path ?? collectionKey,
          pageSize,
          context.continuation.issue(collectionKey, end, context.moment.period.start),
        )
      : undefined;
  return ok(collection(build(offset, end), path, next));
}
