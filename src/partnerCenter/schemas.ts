import { z } from 'zod';
import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  Decimal,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import { isGuid } from '../domain/usage';
import type {
  AzureEntitlement,
  MeterUsageRecord,
  ResourceUsageRecord,
  SpendingBudget,
  SubscriptionUsageSummary,
} from '../domain/azurePlan';
import { ResponseShapeError } from './errors';
import { isLosslessNumber, type LosslessNumber } from './json';

// Validation of Partner Center resources (as parsed by ./json.ts) and their mapping to the domain
// types. Objects are not strict: Partner Center adds fields over time (attributes, links, ...).
// Every documented variant parses: resourceId/id, resourceName/name, currencyLocale/currencyCode,
// budget.amount/budget.ammount, a budget without an amount.

const INTEGER = /^-?\d+$/;

const number = () =>
  z.custom<LosslessNumber>((value) => isLosslessNumber(value), {
    error: (issue) => (issue.input === undefined ? 'is missing' : 'expected a JSON number'),
  });

/** A JSON number as its exact decimal text, e.g. "120.5682999999995904716" or "0". */
const decimal = () => number().transform((n): Decimal => n.value);

const int = () =>
  number()
    .refine((n) => INTEGER.test(n.value) && Number.isSafeInteger(Number(n.value)), {
      error: 'expected a whole number',
    })
    .transform((n) => Number(n.value));

const text = () => z.string();
const dateTime = () =>
  z.string().refine((s) => !Number.isNaN(Date.parse(s)), { error: 'expected a date-time' });
/** Optional on the wire: absent or null both mean "not sent". */
const opt = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

/** `SpendingBudget`; the documented examples spell the key `amount` or `ammount`, or leave it out. */
const spendingBudget = () =>
  opt(z.object({ amount: opt(decimal()), ammount: opt(decimal()) })).transform(
    (b) => b?.amount ?? b?.ammount,
  );

const identityFields = {
  id: opt(text()),
  resourceId: opt(text()),
  name: opt(text()),
  resourceName: opt(text()),
};

const currencyFields = {
  currencyLocale: opt(text()),
  currencyCode: opt(text()),
};

interface Identity {
  id?: string;
  resourceId?: string;
  name?: string;
  resourceName?: string;
}

/** The resource's id (`id`, else `resourceId`), lower-cased; adds an issue and returns undefined when absent. */
function identity(value: Identity, ctx: z.RefinementCtx, mustBeGuid: boolean): string | undefined {
  const id = value.id ?? value.resourceId;
  const key = value.id !== undefined ? 'id' : 'resourceId';
  if (id === undefined || id === '') {
    ctx.addIssue({ code: 'custom', path: ['id'], message: 'neither id nor resourceId is present' });
    return undefined;
  }
  if (mustBeGuid && !isGuid(id)) {
    ctx.addIssue({ code: 'custom', path: [key], message: 'expected a GUID' });
    return undefined;
  }
  return id.toLowerCase();
}

const nameOf = (value: Identity) => value.name ?? value.resourceName;

function currency(value: { currencyLocale?: string; currencyCode?: string }) {
  return {
    ...(value.currencyCode !== undefined ? { currencyCode: value.currencyCode } : {}),
    ...(value.currencyLocale !== undefined ? { currencyLocale: value.currencyLocale } : {}),
  };
}

/** Drops keys whose value is undefined, so stored entities and test snapshots stay tidy. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const partnerUsageSummarySchema = z
  .object({
    ...identityFields,
    ...currencyFields,
    customersOverBudget: int(),
    customersTrendingOver: int(),
    customersWithUsageBasedSubscription: int(),
    billingStartDate: dateTime(),
    billingEndDate: dateTime(),
    totalCost: decimal(),
    lastModifiedDate: opt(dateTime()),
  })
  .transform((v, ctx): PartnerUsageSummary => {
    const id = identity(v, ctx, true);
    if (id === undefined) return z.NEVER;
    return compact({
      id,
      name: nameOf(v),
      customersOverBudget: v.customersOverBudget,
      customersTrendingOver: v.customersTrendingOver,
      customersWithUsageBasedSubscription: v.customersWithUsageBasedSubscription,
      billingStartDate: v.billingStartDate,
      billingEndDate: v.billingEndDate,
      totalCost: v.totalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    });
  });

export const customerMonthlyUsageRecordSchema = z
  .object({
    ...identityFields,
    ...currencyFields,
    budget: spendingBudget(),
    customerSpendingBudget: spendingBudget(),
    percentUsed: opt(decimal()),
    // Records from before Azure plans existed carry no isUpgraded: those customers are legacy.
    isUpgraded: opt(z.boolean()),
    totalCost: decimal(),
    usdTotalCost: opt(decimal()),
    lastModifiedDate: opt(dateTime()),
  })
  .transform((v, ctx): CustomerMonthlyUsageRecord => {
    const customerId = identity(v, ctx, true);
    if (customerId === undefined) return z.NEVER;
    return compact({
      customerId,
      name: nameOf(v),
      budget: v.budget,
      customerSpendingBudget: v.customerSpendingBudget,
      percentUsed: v.percentUsed,
      isUpgraded: v.isUpgraded ?? false,
      totalCost: v.totalCost,
      usdTotalCost: v.usdTotalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    });
  });

/** What a customer's and a subscription's usage summary share. */
const summaryFields = {
  ...identityFields,
  ...currencyFields,
  billingStartDate: dateTime(),
  billingEndDate: dateTime(),
  totalCost: decimal(),
  usdTotalCost: opt(decimal()),
  lastModifiedDate: opt(dateTime()),
};

export const customerUsageSummarySchema = z
  .object({ ...summaryFields, budget: spendingBudget() })
  .transform((v, ctx): CustomerUsageSummary => {
    const customerId = identity(v, ctx, true);
    if (customerId === undefined) return z.NEVER;
    return compact({
      customerId,
      name: nameOf(v),
      budget: v.budget,
      billingStartDate: v.billingStartDate,
      billingEndDate: v.billingEndDate,
      totalCost: v.totalCost,
      usdTotalCost: v.usdTotalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    });
  });

export const subscriptionMonthlyUsageRecordSchema = z
  .object({
    ...identityFields,
    ...currencyFields,
    status: text(),
    offerId: text(),
    partnerOnRecord: opt(text()),
    totalCost: decimal(),
    usdTotalCost: opt(decimal()),
    lastModifiedDate: opt(dateTime()),
  })
  .transform((v, ctx): SubscriptionMonthlyUsageRecord => {
    const subscriptionId = identity(v, ctx, true);
    if (subscriptionId === undefined) return z.NEVER;
    return compact({
      subscriptionId,
      name: nameOf(v),
      status: v.status,
      offerId: v.offerId,
      partnerOnRecord: v.partnerOnRecord,
      totalCost: v.totalCost,
      usdTotalCost: v.usdTotalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    });
  });

export const azureResourceMonthlyUsageRecordSchema = z
  .object({
    ...identityFields,
    ...currencyFields,
    category: text(),
    subcategory: text(),
    quantityUsed: decimal(),
    unit: text(),
    totalCost: decimal(),
  })
  .transform((v, ctx): AzureResourceMonthlyUsageRecord => {
    // Documented as a GUID; not enforced, since nothing downstream depends on its form.
    const resourceId = identity(v, ctx, false);
    if (resourceId === undefined) return z.NEVER;
    return compact({
      resourceId,
      name: nameOf(v),
      category: v.category,
      subcategory: v.subcategory,
      quantityUsed: v.quantityUsed,
      unit: v.unit,
      totalCost: v.totalCost,
      ...currency(v),
    });
  });

export const subscriptionUsageSummarySchema = z
  .object(summaryFields)
  .transform((v, ctx): SubscriptionUsageSummary => {
    const subscriptionId = identity(v, ctx, true);
    if (subscriptionId === undefined) return z.NEVER;
    return compact({
      subscriptionId,
      name: nameOf(v),
      billingStartDate: v.billingStartDate,
      billingEndDate: v.billingEndDate,
      totalCost: v.totalCost,
      usdTotalCost: v.usdTotalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    });
  });

const lowerCase = (value: string | undefined) => value?.toLowerCase();

export const meterUsageRecordSchema = z
  .object({
    ...currencyFields,
    subscriptionId: opt(text()),
    // Not a GUID and not unique-looking: kept exactly as sent, spaces, slashes and all.
    meterId: text().min(1),
    meterName: opt(text()),
    category: opt(text()),
    subcategory: opt(text()),
    quantityUsed: decimal(),
    unit: opt(text()),
    totalCost: decimal(),
    usdTotalCost: opt(decimal()),
    lastModifiedDate: opt(dateTime()),
  })
  .transform((v): MeterUsageRecord =>
    compact({
      subscriptionId: lowerCase(v.subscriptionId),
      meterId: v.meterId,
      meterName: v.meterName,
      category: v.category,
      subcategory: v.subcategory,
      quantityUsed: v.quantityUsed,
      unit: v.unit,
      totalCost: v.totalCost,
      usdTotalCost: v.usdTotalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    }),
  );

export const resourceUsageRecordSchema = z
  .object({
    ...currencyFields,
    subscriptionId: opt(text()),
    // The resource's only key; Azure resource ids are case-insensitive, but the text is kept as sent.
    resourceUri: text().min(1),
    resourceType: opt(text()),
    entitlementId: opt(text()),
    entitlementName: opt(text()),
    resourceGroupName: opt(text()),
    name: opt(text()),
    resourceName: opt(text()),
    totalCost: decimal(),
    usdTotalCost: opt(decimal()),
    lastModifiedDate: opt(dateTime()),
  })
  .transform((v): ResourceUsageRecord =>
    compact({
      subscriptionId: lowerCase(v.subscriptionId),
      resourceUri: v.resourceUri,
      resourceType: v.resourceType,
      entitlementId: lowerCase(v.entitlementId),
      entitlementName: v.entitlementName,
      resourceGroupName: v.resourceGroupName,
      name: v.name ?? v.resourceName,
      totalCost: v.totalCost,
      usdTotalCost: v.usdTotalCost,
      ...currency(v),
      lastModifiedDate: v.lastModifiedDate,
    }),
  );

export const azureEntitlementSchema = z
  .object({
    id: text().min(1),
    friendlyName: opt(text()),
    status: opt(text()),
    subscriptionId: opt(text()),
  })
  .transform((v): AzureEntitlement =>
    compact({
      id: v.id.toLowerCase(),
      friendlyName: v.friendlyName,
      status: v.status,
      subscriptionId: lowerCase(v.subscriptionId),
    }),
  );

/** usagebudget's answer: `amount` null or absent means no budget; `ammount` as in the summary examples. */
export const usageBudgetSchema = z
  .object({ amount: opt(decimal()), ammount: opt(decimal()) })
  .transform((v): SpendingBudget => compact({ amount: v.amount ?? v.ammount }));

export interface NextLink {
  uri: string;
  headers: { key: string; value: string }[];
}

/** A `Collection` page; items are validated one by one by the caller, so errors name their index. */
export const collectionPageSchema = z
  .object({
    totalCount: opt(int()),
    items: z.array(z.unknown()),
    links: opt(
      z.object({
        next: opt(
          z.object({
            uri: z.string().min(1),
            headers: opt(z.array(z.object({ key: z.string().min(1), value: z.string() }))),
          }),
        ),
      }),
    ),
  })
  .transform((v) => ({
    items: v.items,
    next: v.links?.next
      ? ({ uri: v.links.next.uri, headers: v.links.next.headers ?? [] } satisfies NextLink)
      : undefined,
  }));

/** Partner Center's error body, best effort: `{code, description}`; the gateway's 429 has `message`. */
export const errorBodySchema = z
  .object({
    code: opt(z.union([int(), z.string()])),
    description: opt(text()),
    message: opt(text()),
  })
  .transform((v) => ({
    pcCode:
      typeof v.code === 'number'
        ? v.code
        : v.code !== undefined && INTEGER.test(v.code)
          ? Number(v.code)
          : undefined,
    description: v.description ?? v.message,
  }));

/** `items[3].totalCost`; `$` for the value itself. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '$' : out;
}

/**
 * Validates `value` against `schema`. `prefix` is where the value sits in the body (e.g. items[3]),
 * so the error names the field from the body's root. Reports the first problem.
 */
export function validate<T extends z.ZodType>(
  schema: T,
  value: unknown,
  prefix: PropertyKey[] = [],
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const problem = /received undefined$/.test(issue.message)
    ? 'is missing'
    : issue.message.replace(/^Invalid input: /, '');
  throw new ResponseShapeError(formatPath([...prefix, ...issue.path]), problem);
}
