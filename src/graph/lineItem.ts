import { parse as parseLossless, isLosslessNumber } from 'lossless-json';
import { LineItemError } from './errors';
import type { UsageLineItem } from './usageExportClient';

/**
 * One line of an export blob → a UsageLineItem, losslessly and fast (this runs for millions of
 * lines; its cost is measured against bare JSON.parse in the bench).
 *
 * - Amounts keep every digit: before JSON.parse, the values of the decimal fields are turned
 *   into strings by one regular expression over the line (a key cannot match inside a JSON
 *   string, where its quotes would be escaped). A decimal field that still arrives as a number
 *   (a key written with \u escapes, say) makes the line go through lossless-json instead.
 * - Keys match in any casing (PascalCase as documented, camelCase, other); unknown keys are ignored;
 *   a missing optional field is undefined; amounts may be JSON numbers or strings.
 * - Required: CustomerId, UsageDate (a date), BillingPreTaxTotal (a decimal), BillingCurrency
 *   (3 letters). Anything else wrong is ignored, not fatal: the line still counts.
 * Throws LineItemError (naming the field, never echoing the line) for an unusable line.
 */
export function parseUsageLineItem(line: string): UsageLineItem {
  const text = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(DECIMAL_VALUES, '$1"$2"'));
  } catch {
    throw new LineItemError('$', 'the line is not JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LineItemError('$', 'the line is not a JSON object');
  }
  let item = build(raw as Record<string, unknown>);
  if (item === undefined) {
    // A decimal arrived as a JS number: read the line again without losing its digits.
    item = build(parseLossless(text) as Record<string, unknown>, true) as Partial<UsageLineItem>;
  }
  return checkRequired(item);
}

type Kind = 'string' | 'decimal' | 'tags' | 'date';

/** camelCase field → its kind; the wire names are the same words in PascalCase. */
const FIELDS: Record<string, Kind> = {
  partnerId: 'string',
  customerId: 'string',
  customerName: 'string',
  customerDomainName: 'string',
  invoiceNumber: 'string',
  productId: 'string',
  productName: 'string',
  skuId: 'string',
  skuName: 'string',
  availabilityId: 'string',
  publisherName: 'string',
  subscriptionId: 'string',
  subscriptionDescription: 'string',
  entitlementId: 'string',
  entitlementDescription: 'string',
  chargeStartDate: 'string',
  chargeEndDate: 'string',
  usageDate: 'date',
  chargeType: 'string',
  meterType: 'string',
  meterCategory: 'string',
  meterSubCategory: 'string',
  meterId: 'string',
  meterName: 'string',
  meterRegion: 'string',
  unit: 'string',
  unitType: 'string',
  resourceUri: 'string',
  resourceGroup: 'string',
  resourceLocation: 'string',
  consumedService: 'string',
  unitPrice: 'decimal',
  effectiveUnitPrice: 'decimal',
  quantity: 'decimal',
  billingPreTaxTotal: 'decimal',
  billingCurrency: 'string',
  pricingPreTaxTotal: 'decimal',
  pricingCurrency: 'string',
  pcToBcExchangeRate: 'decimal',
  creditPercentage: 'decimal',
  partnerEarnedCreditPercentage: 'decimal',
  creditType: 'string',
  benefitType: 'string',
  tags: 'tags',
};

/** Lower-cased wire key → [field, kind]; exact PascalCase and camelCase spellings hit first. */
const BY_LOWER = new Map<string, [keyof UsageLineItem, Kind]>();
const BY_EXACT = new Map<string, [keyof UsageLineItem, Kind]>();
for (const [field, kind] of Object.entries(FIELDS)) {
  const entry: [keyof UsageLineItem, Kind] = [field as keyof UsageLineItem, kind];
  BY_LOWER.set(field.toLowerCase(), entry);
  BY_EXACT.set(field, entry);
  BY_EXACT.set(field[0].toUpperCase() + field.slice(1), entry);
}
// The documented spellings that are not plain PascalCase of the field.
for (const [wire, field] of [
  ['ResourceURI', 'resourceUri'],
  ['PCToBCExchangeRate', 'pcToBcExchangeRate'],
] as const) {
  BY_EXACT.set(wire, [field, FIELDS[field]]);
}

const DECIMAL_KEYS = Object.entries(FIELDS)
  .filter(([, kind]) => kind === 'decimal')
  .map(([field]) => field);

/** `"UnitPrice": 12.5` (any casing) → groups: the key with its colon, the number. */
const DECIMAL_VALUES = new RegExp(
  `("(?:${DECIMAL_KEYS.join('|')})"\\s*:\\s*)(-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)(?=\\s*[,}])`,
  'gi',
);

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})/;

/**
 * Maps the parsed object's keys onto the fields. Undefined when a decimal field holds a JS
 * number (digits may be lost) and `lossless` is false: the caller parses the line again.
 */
function build(raw: Record<string, unknown>, lossless = false): Partial<UsageLineItem> | undefined {
  const item: Record<string, unknown> = { tags: {} };
  for (const key in raw) {
    const entry = BY_EXACT.get(key) ?? BY_LOWER.get(key.toLowerCase());
    if (entry === undefined) continue;
    const [field, kind] = entry;
    const value = raw[key];
    if (value === null || value === undefined) continue;
    if (kind === 'decimal') {
      if (typeof value === 'number' && !lossless) return undefined;
      const text = isLosslessNumber(value)
        ? value.value
        : typeof value === 'string'
          ? value.trim()
          : undefined;
      if (text === undefined || text === '') continue;
      if (!DECIMAL.test(text)) {
        if (field === 'billingPreTaxTotal')
          throw new LineItemError('BillingPreTaxTotal', 'is not a decimal number');
        continue;
      }
      item[field] = text;
    } else if (kind === 'tags') {
      const tags = readTags(value);
      item.tags = tags ?? {};
      if (tags === undefined) item.tagsUnreadable = true;
    } else if (typeof value === 'string') {
      item[field] = value;
    } else if (typeof value === 'number' || typeof value === 'boolean' || isLosslessNumber(value)) {
      item[field] = String(isLosslessNumber(value) ? value.value : value);
    }
  }
  return item as Partial<UsageLineItem>;
}

function checkRequired(item: Partial<UsageLineItem>): UsageLineItem {
  if (!item.customerId) throw new LineItemError('CustomerId', 'is missing');
  if (item.billingPreTaxTotal === undefined) throw new LineItemError('BillingPreTaxTotal', 'is missing');
  if (!item.billingCurrency || !/^[A-Za-z]{3}$/.test(item.billingCurrency.trim())) {
    throw new LineItemError('BillingCurrency', 'is not a three-letter currency code');
  }
  item.billingCurrency = item.billingCurrency.trim().toUpperCase();
  if (item.pricingCurrency !== undefined) item.pricingCurrency = item.pricingCurrency.trim().toUpperCase();
  const match = item.usageDate === undefined ? null : DAY.exec(item.usageDate);
  if (!match) throw new LineItemError('UsageDate', 'is not a date');
  const month = Number(match[2]);
  const day = Number(match[3]);
  const daysInMonth = new Date(Date.UTC(Number(match[1]), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth)
    throw new LineItemError('UsageDate', 'is not a date');
  item.usageDay = match[0];
  return item as UsageLineItem;
}

/** Tags as sent: a JSON-encoded object, an object, or empty. Undefined when unreadable. */
function readTags(value: unknown): Record<string, string> | undefined {
  let source = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      source = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return undefined;
  const tags: Record<string, string> = {};
  for (const [key, tag] of Object.entries(source as Record<string, unknown>)) {
    const text =
      tag === null || tag === undefined
        ? ''
        : typeof tag === 'object'
          ? isLosslessNumber(tag)
            ? tag.value
            : JSON.stringify(tag)
          : String(tag);
    // defineProperty: a tag named "__proto__" is data, never the object's prototype.
    Object.defineProperty(tags, key, { value: text, enumerable: true, writable: true, configurable: true });
  }
  return tags;
}
