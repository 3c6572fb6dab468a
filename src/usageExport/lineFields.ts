import { DECIMAL } from '../domain/patterns';
import type { Decimal } from '../domain/usage';

/**
 * The fields of a usage line item the aggregates need, read from one JSON line on the hot path
 * (a blob is hundreds of thousands of lines). `JSON.parse` is several times faster than a
 * lossless parser, so the line is parsed with it and only the amounts that arrived as JSON
 * numbers are read again from the line's own text, digit for digit: a double never touches a sum.
 * Keys match in any casing; unknown keys are ignored; missing optional fields are ''.
 * (src/graph/lineItem.ts parses the whole line item for callers that need every field.)
 */
export interface LineFields {
  customerId: string;
  customerName: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  /** The Azure subscription (EntitlementId); the plan's SubscriptionId when absent. */
  azureSubscription: string;
  azureSubscriptionName: string;
  resourceGroup: string;
  meterCategory: string;
  meterId: string;
  meterName: string;
  /** As sent: a JSON-encoded object string (or an object, re-encoded); '' when absent. */
  tags: string;
  billingTotal: Decimal;
  billingCurrency: string;
  pricingTotal: Decimal;
  pricingCurrency: string;
}

type Field = keyof LineFields | 'usageDate' | 'subscriptionId';

const FIELDS: Record<string, Field> = {
  customerid: 'customerId',
  customername: 'customerName',
  usagedate: 'usageDate',
  entitlementid: 'azureSubscription',
  entitlementdescription: 'azureSubscriptionName',
  subscriptionid: 'subscriptionId',
  resourcegroup: 'resourceGroup',
  metercategory: 'meterCategory',
  meterid: 'meterId',
  metername: 'meterName',
  tags: 'tags',
  billingpretaxtotal: 'billingTotal',
  billingcurrency: 'billingCurrency',
  pricingpretaxtotal: 'pricingTotal',
  pricingcurrency: 'pricingCurrency',
};
/** The names as Graph sends them (PascalCase), by their lower-cased form. */
const PASCAL: Record<string, string> = {
  customerid: 'CustomerId',
  customername: 'CustomerName',
  usagedate: 'UsageDate',
  entitlementid: 'EntitlementId',
  entitlementdescription: 'EntitlementDescription',
  subscriptionid: 'SubscriptionId',
  resourcegroup: 'ResourceGroup',
  metercategory: 'MeterCategory',
  meterid: 'MeterId',
  metername: 'MeterName',
  tags: 'Tags',
  billingpretaxtotal: 'BillingPreTaxTotal',
  billingcurrency: 'BillingCurrency',
  pricingpretaxtotal: 'PricingPreTaxTotal',
  pricingcurrency: 'PricingCurrency',
};
const AMOUNTS = new Set<Field>(['billingTotal', 'pricingTotal']);

export class LineRejected extends Error {
  readonly code = 'LineRejected';
}

/**
 * Reads the raw digits of a numeric member `"key": 12.34` from the line's text; of a repeated
 * key, the last, as JSON.parse reads it.
 */
const rawNumberPatterns = new Map<string, RegExp>();
function rawNumber(line: string, key: string): string | undefined {
  let pattern = rawNumberPatterns.get(key);
  if (!pattern) {
    const escaped = JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Inside a JSON string a quote is always escaped, so `"key":` followed by a number only
    // matches a member of the line's own object.
    pattern = new RegExp(`${escaped}\\s*:\\s*(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)`, 'g');
    rawNumberPatterns.set(key, pattern);
  }
  pattern.lastIndex = 0;
  let digits: string | undefined;
  for (let m = pattern.exec(line); m !== null; m = pattern.exec(line)) digits = m[1];
  return digits;
}

// Raw key → field, remembered: a blob uses one casing, so each key is lower-cased once.
const fieldOfKey = new Map<string, Field | null>();
function fieldOf(key: string): Field | null {
  let field = fieldOfKey.get(key);
  if (field === undefined) {
    field = FIELDS[key.toLowerCase()] ?? null;
    if (fieldOfKey.size < 10_000) fieldOfKey.set(key, field);
  }
  return field;
}

/** Every field by its PascalCase and camelCase key. */
const DIRECT: ReadonlyArray<[Field, string, string]> = Object.entries(FIELDS).map(([lower, field]) => {
  const pascal = PASCAL[lower];
  return [field, pascal, pascal[0].toLowerCase() + pascal.slice(1)];
});

function take(out: Record<Field, string>, field: Field, key: string, value: unknown, line: string): void {
  if (value === null || value === undefined) return;
  if (AMOUNTS.has(field)) {
    const text =
      typeof value === 'number' ? rawNumber(line, key) : typeof value === 'string' ? value.trim() : undefined;
    if (text === undefined || !DECIMAL.test(text)) throw new LineRejected(`${field} is not a decimal`);
    out[field] = text;
  } else if (field === 'tags') {
    out.tags = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : '';
  } else if (typeof value === 'string') {
    out[field] = value;
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    out[field] = String(value);
  }
}

/** Parses one line; throws LineRejected (never with the line's text) when it cannot count. */
export function readLineFields(line: string): LineFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new LineRejected('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new LineRejected('not a JSON object');
  const out: Record<Field, string> = {
    customerId: '',
    customerName: '',
    day: '',
    usageDate: '',
    azureSubscription: '',
    azureSubscriptionName: '',
    subscriptionId: '',
    resourceGroup: '',
    meterCategory: '',
    meterId: '',
    meterName: '',
    tags: '',
    billingTotal: '',
    billingCurrency: '',
    pricingTotal: '',
    pricingCurrency: '',
  };
  const record = parsed as Record<string, unknown>;
  // Fast path: each field under its PascalCase name (as sent) or camelCase; a line in another
  // casing (neither found for the required fields) is read key by key, case-insensitively.
  for (const [field, pascal, camel] of DIRECT) {
    let key = pascal;
    let value = record[pascal];
    if (value === undefined) {
      key = camel;
      value = record[camel];
    }
    if (value !== undefined) take(out, field, key, value, line);
  }
  if (out.customerId === '' || out.billingTotal === '')
    for (const key in record) {
      const field = fieldOf(key);
      if (field !== null) take(out, field, key, record[key], line);
    }
  if (out.customerId === '') throw new LineRejected('customerId is missing');
  if (out.billingTotal === '') throw new LineRejected('billingTotal is missing');
  out.day = utcDay(out.usageDate);
  out.customerId = out.customerId.toLowerCase();
  out.azureSubscription = (out.azureSubscription || out.subscriptionId).toLowerCase();
  out.billingCurrency = out.billingCurrency.toUpperCase();
  out.pricingCurrency = out.pricingCurrency.toUpperCase();
  return out;
}

const DAY_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const UTC_OR_LOCAL = /^(\d{4}-\d{2}-\d{2})(T[\d:.]+)?Z?$/i;

/** The UTC day of an ISO date or date-time; a zone offset is applied. */
function utcDay(usageDate: string): string {
  if (DAY_ONLY.test(usageDate)) return usageDate;
  const plain = UTC_OR_LOCAL.exec(usageDate);
  if (plain) return plain[1];
  const ms = Date.parse(usageDate);
  if (usageDate === '' || Number.isNaN(ms)) throw new LineRejected('usageDate is not an ISO date');
  return new Date(ms).toISOString().slice(0, 10);
}
