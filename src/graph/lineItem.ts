import { parse as parseLossless, isLosslessNumber } from 'lossless-json';
import { LineItemError } from './errors';
import type { UsageLineItem } from './usageExportClient';

/**
 * One line of an export blob → a UsageLineItem, losslessly and fast (this runs for millions of
 * lines; its cost is measured against bare JSON.parse in the bench).
 *
 * - Amounts keep every digit: the line goes through JSON.parse as it is, and a decimal field that
 *   comes out a JS number takes its digits from the line's own text instead: the last
 *   `"<key as sent>":` in the line (JSON.parse keeps the last of repeated keys; the sequence
 *   cannot occur inside a JSON string, whose quotes are escaped) and the number after it. When
 *   that cannot be found (a key written with \u escapes, blanks around the colon) the line is
 *   parsed again with lossless-json.
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
    raw = JSON.parse(text);
  } catch {
    throw new LineItemError('$', 'the line is not JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new LineItemError('$', 'the line is not a JSON object');
  }
  let item = build(raw as Record<string, unknown>, text);
  if (item === undefined) {
    // A decimal arrived as a JS number: read the line again without losing its digits.
    item = build(parseLossless(text) as Record<string, unknown>, undefined) as Partial<UsageLineItem>;
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

/** The fields in FIELDS' order; a field's number is its index here. */
const NAMES = Object.keys(FIELDS) as (keyof UsageLineItem)[];
const KINDS = NAMES.map((name) => FIELDS[name]);
const BILLING_TOTAL = NAMES.indexOf('billingPreTaxTotal');

/** Lower-cased wire key → field number; exact PascalCase and camelCase spellings hit first. */
const BY_LOWER = new Map<string, number>();
const BY_EXACT = new Map<string, number>();
NAMES.forEach((field, index) => {
  BY_LOWER.set(field.toLowerCase(), index);
  BY_EXACT.set(field, index);
  BY_EXACT.set(field[0].toUpperCase() + field.slice(1), index);
});
// The documented spellings that are not plain PascalCase of the field.
BY_EXACT.set('ResourceURI', NAMES.indexOf('resourceUri'));
BY_EXACT.set('PCToBCExchangeRate', NAMES.indexOf('pcToBcExchangeRate'));

/**
 * Every wire key seen so far → its field number, or -1 for a key the parser ignores. Keys repeat
 * on every line, so after the first lines each lookup is one hit; capped, so a hostile blob with
 * endless distinct keys cannot grow it.
 */
const SEEN = new Map<string, number>();
const SEEN_MAX = 10_000;

function fieldOf(key: string): number {
  const known = BY_EXACT.get(key) ?? SEEN.get(key);
  if (known !== undefined) return known;
  const index = BY_LOWER.get(key.toLowerCase()) ?? -1;
  if (SEEN.size < SEEN_MAX) SEEN.set(key, index);
  return index;
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})/;

/** The number literal right after the last `"key":` of the line, as written; undefined when not there. */
function numberText(text: string, key: string): string | undefined {
  const marker = `"${key}":`;
  const at = text.lastIndexOf(marker);
  if (at < 0) return undefined;
  const start = at + marker.length;
  let end = start;
  while (end < text.length && NUMBER_CHARS.has(text.charCodeAt(end))) end++;
  return end > start ? text.slice(start, end) : undefined;
}

const NUMBER_CHARS = new Set([...'0123456789+-.eE'].map((c) => c.charCodeAt(0)));

/**
 * Maps the parsed object's keys onto the fields. `text` is the line JSON.parse read (numbers
 * are then JS numbers whose digits come from the text), or undefined for lossless-json's output
 * (numbers are LosslessNumbers). Undefined when a decimal's digits cannot be found: the caller
 * parses the line again with lossless-json. Values are gathered by field number and the item is
 * written as one literal, so every item has the same shape (this is the hot loop).
 */
function build(raw: Record<string, unknown>, text: string | undefined): Partial<UsageLineItem> | undefined {
  const values = new Array<string | undefined>(NAMES.length);
  let tags: Record<string, string> | undefined = {};
  for (const key in raw) {
    const index = fieldOf(key);
    if (index < 0) continue;
    const value = raw[key];
    if (value === null || value === undefined) continue;
    const kind = KINDS[index];
    if (kind === 'decimal') {
      let digits: string | undefined;
      if (typeof value === 'number') {
        digits = text === undefined ? undefined : numberText(text, key);
        if (digits === undefined) return undefined;
      } else {
        digits = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value.trim() : undefined;
      }
      if (digits === undefined || digits === '') continue;
      if (!DECIMAL.test(digits)) {
        if (index === BILLING_TOTAL) throw new LineItemError('BillingPreTaxTotal', 'is not a decimal number');
        continue;
      }
      values[index] = digits;
    } else if (kind === 'tags') {
      tags = readTags(value);
    } else if (typeof value === 'string') {
      values[index] = value;
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      values[index] = String(value);
    } else if (isLosslessNumber(value)) {
      values[index] = value.value;
    }
  }
  return {
    partnerId: values[0],
    customerId: values[1],
    customerName: values[2],
    customerDomainName: values[3],
    invoiceNumber: values[4],
    productId: values[5],
    productName: values[6],
    skuId: values[7],
    skuName: values[8],
    availabilityId: values[9],
    publisherName: values[10],
    subscriptionId: values[11],
    subscriptionDescription: values[12],
    entitlementId: values[13],
    entitlementDescription: values[14],
    chargeStartDate: values[15],
    chargeEndDate: values[16],
    usageDate: values[17],
    chargeType: values[18],
    meterType: values[19],
    meterCategory: values[20],
    meterSubCategory: values[21],
    meterId: values[22],
    meterName: values[23],
    meterRegion: values[24],
    unit: values[25],
    unitType: values[26],
    resourceUri: values[27],
    resourceGroup: values[28],
    resourceLocation: values[29],
    consumedService: values[30],
    unitPrice: values[31],
    effectiveUnitPrice: values[32],
    quantity: values[33],
    billingPreTaxTotal: values[34],
    billingCurrency: values[35],
    pricingPreTaxTotal: values[36],
    pricingCurrency: values[37],
    pcToBcExchangeRate: values[38],
    creditPercentage: values[39],
    partnerEarnedCreditPercentage: values[40],
    creditType: values[41],
    benefitType: values[42],
    usageDay: undefined,
    tags: tags ?? {},
    tagsUnreadable: tags === undefined ? true : undefined,
  } as Partial<UsageLineItem>;
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
  // A blob's lines run day after day: check a day once, not once a line.
  if (match[0] !== lastValidDay) {
    const month = Number(match[2]);
    const day = Number(match[3]);
    const daysInMonth = new Date(Date.UTC(Number(match[1]), month, 0)).getUTCDate();
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth)
      throw new LineItemError('UsageDate', 'is not a date');
    lastValidDay = match[0];
  }
  item.usageDay = match[0];
  return item as UsageLineItem;
}

let lastValidDay = '';

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
    // A tag named "__proto__" is data, never the object's prototype.
    if (key === '__proto__')
      Object.defineProperty(tags, key, { value: text, enumerable: true, writable: true, configurable: true });
    else tags[key] = text;
  }
  return tags;
}
