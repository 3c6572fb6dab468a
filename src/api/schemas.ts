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

/** A day of the daily-usage routes, and how many of them one request may span (≤ 4 months read). */
export const usageDay = z.string().regex(ISO_DATE);
export const MAX_DAILY_USAGE_DAYS = 92;
export const customerGroupBy = z
  .string()
  .regex(/^(total|subscription|resourceGroup|meterCategory|meter|tag:[^\s][^\r\n]{0,199})$/);
export const partnerGroupBy = z.enum(['customer', 'subscription', 'meterCategory', 'meter']);

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

/**
 * Each route's query parameters, all optional. A handler accepts exactly these names (any other
 * is a 400, see readQuery) and the document lists exactly these.
 */
export const QUERIES = {
  none: z.object({}),
  customers: z.object({
    limit,
    continuationToken,
    overBudget: z.boolean().describe('true or false.'),
    isUpgraded: z.boolean().describe('true: Azure plan.'),
    currency: currencyFilter.describe('ISO currency code (EUR) or pricing locale (fr-FR), case-insensitive.'),
    format,
  }),
  resources: z.object({ format }),
  history: z.object({
    from: dateOrDateTime.describe(
      'Earliest snapshot time, ISO-8601: a date (start of that UTC day) or a date-time with zone.',
    ),
    to: dateOrDateTime.describe(
      'Latest snapshot time, ISO-8601: a date (end of that UTC day) or a date-time with zone.',
    ),
    limit,
    continuationToken,
  }),
  runs: z.object({ limit: pageSize(MAX_RUNS, DEFAULT_RUNS, `How many runs, 1-${MAX_RUNS}.`) }),
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
    groupBy: partnerGroupBy.default('customer').describe('customer, subscription, meterCategory or meter.'),
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
    hasResourceBreakdown: z.boolean().describe('Only legacy subscriptions have resources.'),
    ...money,
    usdTotalCost,
    lastModifiedDate: dateTime.nullable(),
  }),
);

// Field order is the CSV column order (after subscriptionId).
export const ResourceRecordSchema = named(
  'ResourceRecord',
  z.object({
    resourceId: z.string(),
    name: z.string().nullable(),
    category: z.string(),
    subcategory: z.string(),
    quantityUsed: decimal('Exact decimal quantity in `unit`.'),
    unit: z.string(),
    ...money,
  }),
);

export const SubscriptionResourcesSchema = named(
  'SubscriptionResources',
  z.object({
    subscription: SubscriptionRecordSchema,
    hasResourceBreakdown: z
      .boolean()
      .describe('False for Azure plans: Partner Center has no breakdown for them; resources is empty.'),
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
      customersWritten: count,
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
export const RunsResponseSchema = named('RunsResponse', z.object({ data: z.array(RunSchema) }));
/** @public Registered by name; the OpenAPI document refers to it with ref(). */
export const RunResponseSchema = named('RunResponse', z.object({ data: RunSchema }));

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
/** The admin route's body: a billed export for one invoice. */
export const BilledExportRequestSchema = z.strictObject({
  invoiceId: z.string().regex(/^[A-Za-z0-9-]{1,40}$/),
});

export type DailyUsageResponseBody = z.infer<typeof DailyUsageResponseSchema>;
export type UsageExportBody = z.infer<typeof UsageExportSchema>;
