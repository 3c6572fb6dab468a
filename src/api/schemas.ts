import { z } from 'zod';
import { CURRENCY_CODE, DECIMAL, GUID, ISO_DATE, ISO_DATE_TIME, LOCALE } from '../domain/patterns';
import { API_ERROR_CODES } from './errors';

/**
 * Every response body of the API, defined once. The TypeScript types (`z.infer`), the OpenAPI
 * document's component schemas (`z.toJSONSchema`, see src/api/openapi.ts) and the CSV columns
 * (src/api/csv.ts) all come from these. Objects are closed in the document, so a field added to
 * a response without adding it here fails test/api/openapi.test.ts.
 */

/** Every schema with an id is a component of the OpenAPI document, referenced by that id. */
export const components = z.registry<{ id: string; description?: string }>();

const named = <T extends z.ZodType>(id: string, schema: T, description?: string): T => {
  components.add(schema, { id, ...(description ? { description } : {}) });
  return schema;
};

const decimal = (description: string) => z.string().regex(DECIMAL).describe(description);
const nullableDecimal = (description: string) => z.string().regex(DECIMAL).nullable().describe(description);
const dateTime = z.string().meta({ format: 'date-time' });
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Query and path parameters: the validators in src/api/validation.ts and the document use these. */
export const guid = z.string().regex(GUID);
export const currencyFilter = z.string().regex(new RegExp(`${CURRENCY_CODE.source}|${LOCALE.source}`));
export const formatParameter = z.enum(['json', 'csv']);
export const dateOrDateTime = z.union([z.string().regex(ISO_DATE), z.string().regex(ISO_DATE_TIME)]);
/** Azure's rule for a resource group name: 1-90 letters, digits, `_ ( ) . -`, not ending in `.`. */
export const resourceGroupName = z.string().regex(/^[\p{L}\p{N}_().-]{0,89}[\p{L}\p{N}_()-]$/u);

/** A day of the daily-usage routes, and how many of them one request may span (≤ 4 months read). */
export const usageDay = z.string().regex(ISO_DATE);
export const MAX_DAILY_USAGE_DAYS = 92;
const TAG_GROUP = 'tag:[^\\s][^\\r\\n]{0,199}';
export const customerGroupBy = z
  .string()
  .regex(new RegExp(`^(total|subscription|resourceGroup|meterCategory|meter|${TAG_GROUP})$`));
export const partnerGroupBy = z
  .string()
  .regex(new RegExp(`^(customer|subscription|resourceGroup|meterCategory|meter|${TAG_GROUP})$`));

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
export const MAX_RUNS = 100;
export const DEFAULT_RUNS = 20;

const pageSize = (max: number, fallback: number, description: string) =>
  z.int().min(1).max(max).default(fallback).describe(description);
const limit = pageSize(MAX_LIMIT, DEFAULT_LIMIT, `Page size, 1-${MAX_LIMIT}.`);
const continuationToken = z
  .string()
  .max(4096)
  .describe('From the previous page; only valid with the same route, ids and filters.');
const format = formatParameter.describe(
  'csv: the body is RFC 4180 `text/csv` (columns in `x-csv-columns` and the 200 description) instead of ' +
    "JSON; overrides the Accept header. A typed client reads it as text (openapi-fetch: `parseAs: 'text'`).",
);

const historyQuery = {
  from: dateOrDateTime.describe(
    'Earliest snapshot time, ISO-8601: a date (start of that UTC day) or a date-time with zone.',
  ),
  to: dateOrDateTime.describe(
    'Latest snapshot time, ISO-8601: a date (end of that UTC day) or a date-time with zone.',
  ),
  limit,
  continuationToken,
};

/**
 * Each route's query parameters, all optional. A handler accepts exactly these names (any other
 * is a 400, see readQuery) and the document lists exactly these.
 */
export const QUERIES = {
  none: z.object({}),
  budgetChanges: z.object({
    limit: pageSize(MAX_RUNS, DEFAULT_RUNS, `How many changes, 1-${MAX_RUNS}.`),
    continuationToken,
  }),
  customers: z.object({
    limit,
    continuationToken,
    overBudget: z.boolean().describe('true or false.'),
    isUpgraded: z.boolean().describe('true: Azure plan.'),
    currency: currencyFilter.describe('ISO currency code (EUR) or pricing locale (fr-FR), case-insensitive.'),
    format,
  }),
  resources: z.object({ format }),
  history: z.object(historyQuery),
  runs: z.object({ limit: pageSize(MAX_RUNS, DEFAULT_RUNS, `How many runs, 1-${MAX_RUNS}.`) }),
  resourceGroupHistory: z.object({
    ...historyQuery,
    azureSubscriptionId: guid.describe('Only the group of this name in this Azure subscription.'),
  }),
  dailyUsage: z.object({
    from: usageDay.describe('First day, YYYY-MM-DD (UTC).'),
    to: usageDay.describe(`Last day, YYYY-MM-DD (UTC); at most ${MAX_DAILY_USAGE_DAYS} days after from.`),
    groupBy: customerGroupBy
      .default('total')
      .describe(
        'total, subscription (Azure), resourceGroup, meterCategory, meter, or tag:{key} (any tag key).',
      ),
    format,
  }),
  partnerDailyUsage: z.object({
    from: usageDay.describe('First day, YYYY-MM-DD (UTC).'),
    to: usageDay.describe(`Last day, YYYY-MM-DD (UTC); at most ${MAX_DAILY_USAGE_DAYS} days after from.`),
    groupBy: partnerGroupBy
      .default('customer')
      .describe(
        'customer, subscription (Azure), resourceGroup, meterCategory, meter, or tag:{key} (any tag key; summed over customers, with the untagged remainder).',
      ),
    format,
  }),
  usageExports: z.object({ limit: pageSize(MAX_RUNS, DEFAULT_RUNS, `How many exports, 1-${MAX_RUNS}.`) }),
} satisfies Record<string, z.ZodObject>;

const money = {
  totalCost: decimal('Exact decimal amount as Partner Center sent it, in the record currency.'),
  currencyCode: z.string().nullable().describe('ISO 4217 code (Azure plan customers).'),
  currencyLocale: z.string().nullable().describe('Pricing locale, e.g. fr-FR (legacy customers).'),
};
const usdTotalCost = nullableDecimal(
  'The total in USD; null whenever Partner Center gives no USD figure (legacy customers).',
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const ErrorSchema = named(
  'Error',
  z.object({ error: z.object({ code: z.enum(API_ERROR_CODES), message: z.string() }) }),
);

export const BillingPeriodSchema = named(
  'BillingPeriod',
  z.object({ start: dateTime.nullable(), end: dateTime.nullable() }),
  'The billing period: start inclusive, end exclusive (the first instant after the period).',
);

export const SnapshotSchema = named(
  'Snapshot',
  z.object({
    runId: z.string().describe('Id of the snapshot run that wrote this data.'),
    takenAt: dateTime.describe('When the data was read from Partner Center.'),
    billingPeriod: BillingPeriodSchema.nullable(),
    stale: z.boolean().describe('True when takenAt is older than STALE_AFTER_MINUTES.'),
  }),
  'Which snapshot the data comes from.',
);

const CustomerTotalsSchema = named(
  'CustomerTotals',
  z.object({
    byCurrency: z
      .array(
        z.object({
          currencyCode: z
            .string()
            .nullable()
            .describe('ISO 4217 code (customers priced by currency, Azure plans).'),
          currencyLocale: z
            .string()
            .nullable()
            .describe('Pricing locale, for customers without a currency code (legacy).'),
          totalCost: decimal("Exact sum of the customers' totalCost in this currency."),
          customers: count,
          azurePlanCustomers: count.describe('Of customers, those with an Azure plan.'),
        }),
      )
      .describe(
        'One entry per currency code or pricing locale; amounts in different currencies are never added.',
      ),
    usd: z.object({
      totalCost: decimal(
        'Exact sum of usdTotalCost over the customers priced by currency code that carry one.',
      ),
      customers: count,
    }),
    customers: count.describe('Monthly records summed.'),
    customersWithoutTotal: count.describe('Records left out: no totalCost, or one that is not a number.'),
  }),
  "Computed by the app from every customer's CustomerMonthlyUsageRecord of the snapshot.",
);

export const PartnerUsageSummarySchema = named(
  'PartnerUsageSummary',
  z.object({
    partnerId: z.string(),
    name: z.string().nullable(),
    customersOverBudget: count,
    customersTrendingOver: count,
    customersWithUsageBasedSubscription: count,
    billingPeriod: BillingPeriodSchema,
    ...money,
    lastModifiedDate: dateTime.nullable(),
    customerTotals: CustomerTotalsSchema.nullable().describe(
      "The app's own totals over every customer's monthly record of this snapshot, Azure plans included; " +
        "totalCost above is Partner Center's figure, which leaves Azure plans out. Null for snapshots taken before these existed.",
    ),
  }),
);

// Field order is the CSV column order.
export const CustomerRecordSchema = named(
  'CustomerRecord',
  z.object({
    customerId: guid,
    name: z.string().nullable(),
    isUpgraded: z.boolean().describe('True: the customer has an Azure plan.'),
    budget: nullableDecimal('Spending budget; null when none is set.'),
    customerSpendingBudget: nullableDecimal('customerSpendingBudget.amount, when Partner Center sends it.'),
    percentUsed: nullableDecimal('Percentage of the budget used.'),
    totalCost: money.totalCost,
    usdTotalCost,
    currencyCode: money.currencyCode,
    currencyLocale: money.currencyLocale,
    lastModifiedDate: dateTime.nullable(),
  }),
);

export const CustomerUsageSummarySchema = named(
  'CustomerUsageSummary',
  z.object({
    customerId: guid,
    name: z.string().nullable(),
    budget: nullableDecimal('Spending budget; null when none is set.'),
    billingPeriod: BillingPeriodSchema,
    ...money,
    usdTotalCost,
    lastModifiedDate: dateTime.nullable(),
  }),
);

export const SubscriptionRecordSchema = named(
  'SubscriptionRecord',
  z.object({
    subscriptionId: guid,
    name: z.string().nullable(),
    status: z.string(),
    offerId: z.string().describe('MS-AZR-0145P for a legacy Microsoft Azure subscription.'),
    partnerOnRecord: z.string().nullable(),
    hasResourceBreakdown: z
      .boolean()
      .describe(
        'True for a legacy Microsoft Azure (MS-AZR-0145P) subscription. An Azure plan is false here; ' +
          'its resource records are served by …/resources too, with kind azurePlan.',
      ),
    ...money,
    usdTotalCost,
    lastModifiedDate: dateTime.nullable(),
  }),
);

const nullableText = (description: string) => z.string().nullable().describe(description);
const azurePlanOnly = (description: string) => nullableText(`${description} Null for a legacy record.`);

// Field order is the CSV column order (after subscriptionId). The legacy fields come first, as
// they always were; the fields Azure-plan records added follow, null where a kind has none.
export const ResourceRecordSchema = named(
  'ResourceRecord',
  z.object({
    resourceId: z.string().describe("Legacy: Partner Center's resource id. Azure plan: the resource URI."),
    name: z.string().nullable(),
    category: nullableText('Legacy: the meter category. Null for an Azure-plan record.'),
    subcategory: nullableText('Legacy: the meter subcategory. Null for an Azure-plan record.'),
    quantityUsed: decimal('Exact decimal quantity in `unit`.')
      .nullable()
      .describe('Legacy: exact decimal quantity in `unit`. Null for an Azure-plan record.'),
    unit: nullableText('Legacy: the unit of quantityUsed. Null for an Azure-plan record.'),
    ...money,
    kind: z
      .enum(['legacy', 'azurePlan'])
      .describe('legacy: an MS-AZR-0145P resource record; azurePlan: a resource record of an Azure plan.'),
    resourceUri: azurePlanOnly('The full Azure resource URI, exactly as Partner Center sent it.'),
    resourceType: azurePlanOnly('The resource provider, e.g. Microsoft.Compute.'),
    azureSubscriptionId: azurePlanOnly('The Azure subscription under the plan (entitlementId).'),
    azureSubscriptionName: azurePlanOnly("The Azure subscription's name (entitlementName)."),
    resourceGroup: azurePlanOnly('The resource group, as Partner Center spells it.'),
    usdTotalCost: nullableDecimal('The total in USD, where Partner Center gives one (Azure plans).'),
    lastModifiedDate: dateTime.nullable(),
  }),
);

export const SubscriptionResourcesSchema = named(
  'SubscriptionResources',
  z.object({
    subscription: SubscriptionRecordSchema,
    hasResourceBreakdown: z
      .boolean()
      .describe(
        'True for a legacy subscription, and for an Azure plan once a snapshot has stored its resources; ' +
          'false (resources empty) for an Azure plan snapshotted before that.',
      ),
    resources: z.array(ResourceRecordSchema),
  }),
);

export const HistoryPointSchema = named(
  'HistoryPoint',
  z.object({
    runId: z.string(),
    takenAt: dateTime,
    billingPeriod: BillingPeriodSchema.nullable(),
    totalCost: money.totalCost,
    usdTotalCost,
    currencyCode: money.currencyCode,
    currencyLocale: money.currencyLocale,
  }),
);

export const SubscriptionUsageSummarySchema = named(
  'SubscriptionUsageSummary',
  z.object({
    subscriptionId: z.string(),
    name: z.string().nullable(),
    billingPeriod: BillingPeriodSchema.describe(
      'Azure plans: the 1st to the 1st of the next month; legacy: from the anniversary day.',
    ),
    ...money,
    usdTotalCost,
    lastModifiedDate: dateTime.nullable(),
  }),
  "A subscription's current-period usage summary, as Partner Center gives it.",
);

// Field order is the CSV column order (after subscriptionId).
export const MeterRecordSchema = named(
  'MeterRecord',
  z.object({
    meterId: z.string().describe('Not a GUID; kept exactly as sent (spaces, parentheses, any character).'),
    meterName: z.string().nullable(),
    category: z.string().nullable(),
    subcategory: z.string().nullable(),
    quantityUsed: decimal('Exact decimal quantity in `unit`.'),
    unit: z.string().nullable(),
    ...money,
    usdTotalCost,
    lastModifiedDate: dateTime.nullable(),
  }),
  "An Azure plan's current-period usage of one meter.",
);

// Field order is the CSV column order (after subscriptionId).
export const ResourceGroupCostSchema = named(
  'ResourceGroupCost',
  z.object({
    azureSubscriptionId: nullableText('The Azure subscription holding the group.'),
    azureSubscriptionName: z.string().nullable(),
    resourceGroup: nullableText('As Partner Center spells it; null for resources outside any group.'),
    resourceCount: count,
    ...money,
    usdTotalCost: nullableDecimal(
      'The sum in USD; null unless every resource of the group has a USD figure.',
    ),
  }),
  "A resource group's cost: its resources' records summed exactly.",
);

// Field order is the CSV column order (after subscriptionId).
export const AzureSubscriptionCostSchema = named(
  'AzureSubscriptionCost',
  z.object({
    azureSubscriptionId: z.string(),
    friendlyName: z.string().nullable(),
    status: nullableText('As Partner Center sends it (e.g. active); null when not listed.'),
    listed: z
      .boolean()
      .describe("False: resource records name this Azure subscription but the plan's list left it out."),
    resourceCount: count,
    resourceGroupCount: count,
    ...money,
    usdTotalCost: nullableDecimal('The sum in USD; null unless every resource has a USD figure.'),
  }),
  "An Azure subscription under a plan, with its resources' cost summed exactly.",
);

const planDetail = <T extends z.ZodType>(name: string, item: T, description: string) =>
  z.object({
    subscription: SubscriptionRecordSchema,
    [name]: z.array(item).describe(description),
  });

export const SubscriptionMetersSchema = named(
  'SubscriptionMeters',
  planDetail(
    'meters',
    MeterRecordSchema,
    'Empty for a legacy subscription (Partner Center has no meters for it).',
  ),
);
export const SubscriptionResourceGroupsSchema = named(
  'SubscriptionResourceGroups',
  planDetail(
    'resourceGroups',
    ResourceGroupCostSchema,
    'One entry per Azure subscription and resource group (names compared case-insensitively); empty for a legacy subscription.',
  ),
);
export const SubscriptionAzureSubscriptionsSchema = named(
  'SubscriptionAzureSubscriptions',
  planDetail(
    'azureSubscriptions',
    AzureSubscriptionCostSchema,
    'Empty for a legacy subscription (it is an Azure subscription itself).',
  ),
);

export const ResourceGroupHistoryPointSchema = named(
  'ResourceGroupHistoryPoint',
  z.object({
    runId: z.string(),
    takenAt: dateTime,
    billingPeriod: BillingPeriodSchema.nullable(),
    azureSubscriptionId: z.string().nullable(),
    resourceGroup: z.string().nullable().describe('As Partner Center spelled it at that snapshot.'),
    resourceCount: count,
    totalCost: money.totalCost,
    usdTotalCost,
    currencyCode: money.currencyCode,
    currencyLocale: money.currencyLocale,
  }),
);

export const RUN_STATES = ['queued', 'running', 'succeeded', 'partial', 'failed'] as const;
export const RUN_TRIGGERS = ['timer', 'manual', 'cli'] as const;

export const RunSchema = named(
  'Run',
  z.object({
    runId: z.string(),
    state: z.enum(RUN_STATES),
    trigger: z.enum(RUN_TRIGGERS),
    correlationId: z.string(),
    requestedAt: dateTime,
    startedAt: dateTime.nullable(),
    finishedAt: dateTime.nullable(),
    reason: z.string().nullable(),
    counts: z.object({
      customersWritten: count.describe('Customers the run serves: fetched plus carried over.'),
      customersFetched: count.describe('Customers whose detail the run read from Partner Center.'),
      customersCarriedOver: count.describe(
        'Customers whose monthly record had not moved: their last snapshot was kept, with a history point for this run.',
      ),
      customersFailed: count,
      subscriptionsWritten: count,
      subscriptionsFailed: count.describe(
        'Subscriptions of failed customers found before the customer failed.',
      ),
      resourcesWritten: count,
    }),
    invocations: count.describe('Invocations (time budgets) the run took so far.'),
  }),
);

const ContinuationTokenSchema = named(
  'ContinuationToken',
  z
    .string()
    .nullable()
    .describe(
      'Pass back as ?continuationToken= with the same route and filters for the next page; null on the last page.',
    ),
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const PartnerUsageSummaryResponseSchema = named(
  'PartnerUsageSummaryResponse',
  z.object({ snapshot: SnapshotSchema, data: PartnerUsageSummarySchema }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const CustomersResponseSchema = named(
  'CustomersResponse',
  z.object({
    snapshot: SnapshotSchema,
    data: z.array(CustomerRecordSchema),
    continuationToken: ContinuationTokenSchema,
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const CustomerUsageSummaryResponseSchema = named(
  'CustomerUsageSummaryResponse',
  z.object({
    snapshot: SnapshotSchema,
    data: CustomerUsageSummarySchema.nullable().describe('Null: no usage reported for the customer.'),
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const SubscriptionsResponseSchema = named(
  'SubscriptionsResponse',
  z.object({ snapshot: SnapshotSchema, data: z.array(SubscriptionRecordSchema) }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const SubscriptionResourcesResponseSchema = named(
  'SubscriptionResourcesResponse',
  z.object({ snapshot: SnapshotSchema, data: SubscriptionResourcesSchema }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const HistoryResponseSchema = named(
  'HistoryResponse',
  z.object({
    snapshot: SnapshotSchema.nullable().describe(
      'The newest point of this page; null when the page is empty.',
    ),
    data: z.array(HistoryPointSchema),
    continuationToken: ContinuationTokenSchema,
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const SubscriptionUsageSummaryResponseSchema = named(
  'SubscriptionUsageSummaryResponse',
  z.object({
    snapshot: SnapshotSchema,
    data: SubscriptionUsageSummarySchema.nullable().describe(
      'Null: no usage reported for the subscription, or not stored by the snapshot that wrote it.',
    ),
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const SubscriptionMetersResponseSchema = named(
  'SubscriptionMetersResponse',
  z.object({ snapshot: SnapshotSchema, data: SubscriptionMetersSchema }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const SubscriptionResourceGroupsResponseSchema = named(
  'SubscriptionResourceGroupsResponse',
  z.object({ snapshot: SnapshotSchema, data: SubscriptionResourceGroupsSchema }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const SubscriptionAzureSubscriptionsResponseSchema = named(
  'SubscriptionAzureSubscriptionsResponse',
  z.object({ snapshot: SnapshotSchema, data: SubscriptionAzureSubscriptionsSchema }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const ResourceGroupHistoryResponseSchema = named(
  'ResourceGroupHistoryResponse',
  z.object({
    snapshot: SnapshotSchema.nullable().describe(
      'The newest point of this page; null when the page is empty.',
    ),
    data: z.array(ResourceGroupHistoryPointSchema),
    continuationToken: ContinuationTokenSchema,
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const RunsResponseSchema = named('RunsResponse', z.object({ data: z.array(RunSchema) }));
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const RunResponseSchema = named('RunResponse', z.object({ data: RunSchema }));

// ---- customer budget (GET function level, PUT admin) ----

/**
 * A budget amount a caller may set: a plain non-negative decimal string with at most 6 decimals
 * and 15 significant digits, so that no double on the way to Partner Center rounds it.
 */
export const BUDGET_AMOUNT = /^(0|[1-9]\d{0,14})(\.\d{1,6})?$/;
export const MAX_BUDGET_DIGITS = 15;

export const CustomerBudgetSchema = named(
  'CustomerBudget',
  z.object({
    customerId: guid,
    amount: nullableDecimal(
      'The spending budget; null when none is set (or the snapshot had no usage summary to read it from).',
    ),
    source: z
      .enum(['snapshot', 'change'])
      .describe('snapshot: as the last snapshot read it; change: as set through PUT since that snapshot.'),
    asOf: dateTime.describe("The snapshot's takenAt, or when Partner Center accepted the change."),
  }),
);

const PrincipalSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    identityProvider: z.string(),
    verified: z
      .boolean()
      .describe(
        'True when App Service Authentication is on (WEBSITE_AUTH_ENABLED), so the platform set these; false: the caller sent them.',
      ),
  })
  .nullable()
  .describe('The signed-in principal (x-ms-client-principal-*), when the request carried one.');

export const BudgetChangeSchema = named(
  'BudgetChange',
  z.object({
    changeId: guid.describe('Also the MS-CorrelationId of the Partner Center request.'),
    customerId: guid,
    state: z
      .enum(['pending', 'applied'])
      .describe('pending: recorded before Partner Center was asked and never completed (outcome unknown).'),
    requestedAt: dateTime,
    appliedAt: dateTime.nullable(),
    oldAmount: nullableDecimal('The budget the cache showed before the change; null: none.'),
    requestedAmount: nullableDecimal('What was asked for; null: remove the budget.'),
    newAmount: nullableDecimal('What Partner Center answered it now has; null: none (or pending).'),
    changedBy: z.object({
      key: z.enum(['master']).describe('Admin level: the host master key (the host does not say which key).'),
      principal: PrincipalSchema,
    }),
  }),
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const BudgetChangeRequestSchema = named(
  'BudgetChangeRequest',
  z.strictObject({
    amount: z
      .string()
      .regex(BUDGET_AMOUNT)
      .nullable()
      .describe(
        'Decimal string, e.g. "1500" or "99.95" (at most 6 decimals, 15 digits); null removes the budget.',
      ),
  }),
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const CustomerBudgetResponseSchema = named(
  'CustomerBudgetResponse',
  z.object({
    snapshot: SnapshotSchema.nullable().describe(
      "The customer's latest snapshot; null when the customer is known but not snapshotted yet.",
    ),
    data: CustomerBudgetSchema,
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const BudgetChangeResponseSchema = named(
  'BudgetChangeResponse',
  z.object({ data: z.object({ budget: CustomerBudgetSchema, change: BudgetChangeSchema }) }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const BudgetChangesResponseSchema = named(
  'BudgetChangesResponse',
  z.object({ data: z.array(BudgetChangeSchema), continuationToken: ContinuationTokenSchema }),
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const HealthSchema = named(
  'Health',
  z.object({
    status: z.enum(['ok', 'unhealthy']),
    version: z.string(),
    failed: z.array(z.string()).describe('Names of the checks that failed.'),
    checks: z
      .record(
        z.string(),
        z.object({
          ok: z.boolean(),
          durationMs: count,
          error: z.string().optional().describe('An error class or code, when the check failed.'),
        }),
      )
      .describe('One entry per dependency checked (storage, secrets).'),
  }),
);

const DailyUsagePointSchema = named(
  'DailyUsagePoint',
  z.object({
    day: z.string().regex(ISO_DATE).describe('UTC day, YYYY-MM-DD.'),
    customerId: z.string().optional().describe('Partner-wide routes grouped per customer or subscription.'),
    value: z
      .string()
      .nullable()
      .describe(
        "The group: an Azure subscription id, '{subscription}/{resource group}', a meter category, a meter id, a tag's value, a customer id; null: the untagged remainder of a tag grouping. Empty: the line items had none.",
      ),
    label: z
      .string()
      .optional()
      .describe('A display name the line items carry (meter name, subscription name, tag key as sent).'),
    billingCurrency: z.string(),
    billingTotal: decimal('Exact sum of BillingPreTaxTotal, in billingCurrency.'),
    pricingCurrency: z.string(),
    pricingTotal: decimal('Exact sum of PricingPreTaxTotal, in pricingCurrency.'),
    lines: count.describe('Line items summed.'),
  }),
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const DailyUsageResponseSchema = named(
  'DailyUsageResponse',
  z.object({
    groupBy: z.string(),
    from: z.string(),
    to: z.string(),
    sources: z
      .array(
        z.object({
          month: z.string().describe('YYYY-MM'),
          exportId: z.string(),
          committedAt: dateTime,
          kind: z.enum(['unbilled', 'billed']),
        }),
      )
      .describe(
        "Per month, the export the customer's figures come from (customer route only; empty partner-wide).",
      ),
    data: z.array(DailyUsagePointSchema),
  }),
);

/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const UsageExportSchema = named(
  'UsageExport',
  z.object({
    exportId: z.string(),
    kind: z.enum(['unbilled', 'billed']),
    billingPeriod: z.enum(['current', 'last']).nullable(),
    month: z.string().nullable(),
    invoiceId: z.string().nullable(),
    trigger: z.enum(['schedule', 'request']),
    state: z.enum([
      'running',
      'processing',
      'merging',
      'succeeded',
      'partial',
      'failed',
      'noData',
      'expired',
    ]),
    requestedAt: dateTime,
    updatedAt: dateTime,
    finishedAt: dateTime.nullable(),
    blobCount: count.nullable(),
    blobsDone: count,
    linesRead: count,
    linesRejected: count,
    customersMerged: count,
    failedBlobs: z.array(z.object({ index: count, name: z.string(), reason: z.string() })),
    reason: z.string().nullable(),
  }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const UsageExportsResponseSchema = named(
  'UsageExportsResponse',
  z.object({ data: z.array(UsageExportSchema) }),
);
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const UsageExportResponseSchema = named('UsageExportResponse', z.object({ data: UsageExportSchema }));
/** The admin route's body: a billed export for one invoice. Registered by name for the OpenAPI document. */
export const BilledExportRequestSchema = named(
  'BilledUsageExportRequest',
  z.strictObject({
    invoiceId: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,40}$/)
      .describe('The invoice id, e.g. "G016907411" (1-40 letters, digits or hyphens).'),
  }),
);

export type DailyUsageResponseBody = z.infer<typeof DailyUsageResponseSchema>;
export type UsageExportBody = z.infer<typeof UsageExportSchema>;
