import { parse as parseLossless, isLosslessNumber } from 'lossless-json';
import { CURRENCY_CODE, DECIMAL } from '../domain/patterns';
import { LineItemError } from './errors';
import type { UsageLineItem } from './usageExportClient';

/**
 * The one parser of a usage export line (Graph's daily rated usage export, one JSON object per
 * line). The Graph client's callers read whole items with parseUsageLineItem; the pipeline reads
 * millions of lines a blob with a reader that builds only the fields it asks for
 * (usageLineReader). Both apply the same rules, and only these:
 *
 * - Keys match in any casing (PascalCase as documented, camelCase, other); unknown keys are
 *   ignored; a missing (or null) optional field is undefined; an optional field of the wrong
 *   kind is ignored, not fatal.
 * - Amounts keep every digit, sent as JSON numbers or as strings: the line goes through
 *   JSON.parse, and a decimal that comes out a JS number takes its digits from the line's own
 *   text (the last member `"<key as sent>" :` of the line, as JSON.parse keeps the last of a
 *   repeated key, whose number reads back as the same double); when they cannot be found that
 *   way (a key written with \u escapes) the line is parsed again with lossless-json. A decimal
 *   is what src/domain/patterns calls one (`-12.50`, `1E-7`), blanks around a string trimmed.
 * - Required, or the line is rejected: CustomerId (lower-cased: a GUID), UsageDate (an ISO date
 *   or date-time, a real calendar day), BillingPreTaxTotal (a decimal), BillingCurrency (three
 *   letters, upper-cased). The sums' other side must be sound too when present:
 *   PricingPreTaxTotal a decimal and PricingCurrency three letters, or the line is rejected
 *   (a summed amount is never silently dropped). Other decimals that are not decimals are
 *   undefined.
 * - usageDay is UsageDate's UTC day: a date alone is that day, a date-time without a zone is
 *   UTC, an offset is applied (23:30-02:00 on the 4th is the 5th).
 * - SubscriptionId and EntitlementId are lower-cased (GUIDs); other text fields are as sent.
 * - Tags: a JSON-encoded object (as Graph sends them; a doubly encoded one too) or an object;
 *   empty or absent is {}. Values are text (null → '', a number as JS writes it, objects as JSON); a
 *   blank key is dropped; a key repeated in another casing keeps the first (Azure's tag names
 *   are case-insensitive); `__proto__` is a tag like any other. Unreadable tags are {} with
 *   tagsUnreadable set, and the line still counts. Items with the same tags text share one
 *   frozen tags object.
 *
 * A rejected line throws LineItemError naming the field (`$` for the line itself), never
 * echoing the line's text.
 */
export function parseUsageLineItem(line: string): UsageLineItem {
  return readLine(line, ALL) as unknown as UsageLineItem;
}

/** The fields every reader returns: those the rules above check. */
type CoreField =
  | 'customerId'
  | 'usageDate'
  | 'usageDay'
  | 'billingPreTaxTotal'
  | 'billingCurrency'
  | 'pricingPreTaxTotal'
  | 'pricingCurrency';

/** A field a reader can be asked for besides the core ones. */
export type SelectableField = Exclude<keyof UsageLineItem, CoreField | 'tagsUnreadable'>;

/** What a reader returns: the core fields and those asked for (`tags` brings tagsUnreadable). */
export type UsageLinePart<K extends SelectableField> = Pick<UsageLineItem, CoreField | K | 'tagsUnreadable'>;

/**
 * A parser of lines into the core fields and `fields` only, under the same rules as
 * parseUsageLineItem; for the hot path, where building every field of every line costs time.
 */
export function usageLineReader<K extends SelectableField>(
  fields: readonly K[],
): (line: string) => UsageLinePart<K> {
  const selection = select(fields);
  return (line) => readLine(line, selection) as unknown as UsageLinePart<K>;
}

type Kind = 'string' | 'id' | 'decimal' | 'tags' | 'date';

/** camelCase field → its kind; the wire names are the same words in PascalCase. */
const FIELDS: Record<string, Kind> = {
  // The core fields first: their numbers are fixed below.
  customerId: 'id',
  usageDate: 'date',
  billingPreTaxTotal: 'decimal',
  billingCurrency: 'string',
  pricingPreTaxTotal: 'decimal',
  pricingCurrency: 'string',
  partnerId: 'string',
  customerName: 'string',
  customerDomainName: 'string',
  invoiceNumber: 'string',
  productId: 'string',
  productName: 'string',
  skuId: 'string',
  skuName: 'string',
  availabilityId: 'string',
  publisherName: 'string',
  subscriptionId: 'id',
  subscriptionDescription: 'string',
  entitlementId: 'id',
  entitlementDescription: 'string',
  chargeStartDate: 'string',
  chargeEndDate: 'string',
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
const CUSTOMER = 0;
const USAGE_DATE = 1;
const BILLING_TOTAL = 2;
const BILLING_CURRENCY = 3;
const PRICING_TOTAL = 4;
const PRICING_CURRENCY = 5;
const CORE_COUNT = 6;
const TAGS = NAMES.indexOf('tags');
/** PascalCase names for errors, as documented. */
const WIRE = [
  'CustomerId',
  'UsageDate',
  'BillingPreTaxTotal',
  'BillingCurrency',
  'PricingPreTaxTotal',
  'PricingCurrency',
];

/** A reader's fields: whether each field number is read, and the extra ones in order. */
interface Selection {
  wanted: Uint8Array;
  extra: number[];
}

function select(fields: readonly string[]): Selection {
  const wanted = new Uint8Array(NAMES.length);
  wanted.fill(1, 0, CORE_COUNT);
  const extra: number[] = [];
  for (const field of fields) {
    const index = NAMES.indexOf(field as keyof UsageLineItem);
    // usageDay is derived from usageDate, a core field.
    if (index < CORE_COUNT || wanted[index]) continue;
    wanted[index] = 1;
    extra.push(index);
  }
  return { wanted, extra };
}

const ALL = select(NAMES);

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

/** One line's values by field number, reused line after line (parsing is synchronous). */
const values = new Array<string | undefined>(NAMES.length);
let tagsValue: unknown;

/** Set by gather when a JSON number's digits were not found in the line's text. */
const NOT_FOUND = Symbol('digits not found');

function readLine(line: string, selection: Selection): Record<string, unknown> {
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
  if (gather(raw as Record<string, unknown>, text, selection.wanted) === NOT_FOUND) {
    // A decimal arrived as a JS number whose digits the text scan could not find: read the line
    // again without losing its digits. lossless-json refuses a key repeated with another value.
    let lossless: unknown;
    try {
      lossless = parseLossless(text);
    } catch {
      throw new LineItemError('$', 'an amount cannot be read exactly (a repeated or escaped key)');
    }
    gather(lossless as Record<string, unknown>, undefined, selection.wanted);
  }
  return build(selection);
}

/**
 * Maps the parsed object's keys onto `values`. `text` is the line JSON.parse read (numbers are
 * then JS numbers whose digits come from the text), or undefined for lossless-json's output
 * (numbers are LosslessNumbers). NOT_FOUND when a decimal's digits cannot be found.
 */
function gather(
  raw: Record<string, unknown>,
  text: string | undefined,
  wanted: Uint8Array,
): typeof NOT_FOUND | void {
  values.fill(undefined);
  tagsValue = undefined;
  for (const key in raw) {
    const index = fieldOf(key);
    if (index < 0 || wanted[index] === 0) continue;
    const value = raw[key];
    if (value === null || value === undefined) {
      // A repeated key's last value counts, even when it is null.
      values[index] = undefined;
      if (index === TAGS) tagsValue = undefined;
      continue;
    }
    const kind = KINDS[index];
    if (kind === 'decimal') {
      let digits: string | undefined;
      if (typeof value === 'number') {
        if (text === undefined) digits = String(value);
        else {
          digits = numberText(text, key, value);
          if (digits === undefined) return NOT_FOUND;
        }
      } else if (typeof value === 'string') digits = value.trim() || undefined;
      else if (isLosslessNumber(value)) digits = value.value;
      if (digits !== undefined && !DECIMAL.test(digits)) {
        if (index === BILLING_TOTAL || index === PRICING_TOTAL)
          throw new LineItemError(WIRE[index], 'is not a decimal number');
        digits = undefined;
      }
      values[index] = digits;
    } else if (kind === 'tags') {
      tagsValue = value;
    } else if (typeof value === 'string') {
      values[index] = value;
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      values[index] = String(value);
    } else if (isLosslessNumber(value)) {
      values[index] = value.value;
    } else {
      values[index] = undefined;
    }
  }
}

/** Checks the core fields and writes the item: core fields first, then the selection's. */
function build(selection: Selection): Record<string, unknown> {
  const customerId = values[CUSTOMER];
  if (customerId === undefined || customerId.trim() === '')
    throw new LineItemError('CustomerId', 'is missing');
  const usageDate = values[USAGE_DATE];
  if (usageDate === undefined || usageDate === '') throw new LineItemError('UsageDate', 'is missing');
  const usageDay = utcDay(usageDate);
  const billingTotal = values[BILLING_TOTAL];
  if (billingTotal === undefined) throw new LineItemError('BillingPreTaxTotal', 'is missing');
  const billingCurrency = currency(values[BILLING_CURRENCY], BILLING_CURRENCY);
  if (billingCurrency === undefined) throw new LineItemError('BillingCurrency', 'is missing');
  const item: Record<string, unknown> = {
    customerId: customerId.toLowerCase(),
    usageDate,
    usageDay,
    billingPreTaxTotal: billingTotal,
    billingCurrency,
    pricingPreTaxTotal: values[PRICING_TOTAL],
    pricingCurrency: currency(values[PRICING_CURRENCY], PRICING_CURRENCY),
  };
  for (const index of selection.extra) {
    if (index === TAGS) {
      const tags = tagsOf(tagsValue);
      item.tags = tags ?? EMPTY_TAGS;
      item.tagsUnreadable = tags === undefined ? true : undefined;
    } else {
      const value = values[index];
      item[NAMES[index]] = value !== undefined && KINDS[index] === 'id' ? value.toLowerCase() : value;
    }
  }
  return item;
}

/** A currency code, upper-cased; undefined when absent or blank; rejected when not three letters. */
function currency(value: string | undefined, index: number): string | undefined {
  if (value === undefined) return undefined;
  if (value.length === 3 && CURRENCY_CODE.test(value)) return value.toUpperCase();
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (!CURRENCY_CODE.test(trimmed))
    throw new LineItemError(WIRE[index], 'is not a three-letter currency code');
  return trimmed.toUpperCase();
}

/**
 * The number literal of the last member `"key" :` of the line whose value reads back as
 * `value` (so a member of a nested object with the same key does not count); undefined when
 * there is none. The key's opening quote must not be escaped: `"key"` with an unescaped quote
 * on both sides in valid JSON is a key of some object, never text inside a string.
 */
function numberText(text: string, key: string, value: number): string | undefined {
  const marker = `"${key}"`;
  let at = text.lastIndexOf(marker);
  while (at >= 0) {
    let backslashes = 0;
    while (at - backslashes > 0 && text.charCodeAt(at - backslashes - 1) === 92) backslashes++;
    if (backslashes % 2 === 0) {
      let start = skipBlanks(text, at + marker.length);
      if (text.charCodeAt(start) === 58 /* : */) {
        start = skipBlanks(text, start + 1);
        let end = start;
        while (end < text.length && NUMBER_CHARS[text.charCodeAt(end)] === 1) end++;
        if (end > start) {
          const digits = text.slice(start, end);
          if (Number(digits) === value) return digits;
        }
      }
    }
    at = at === 0 ? -1 : text.lastIndexOf(marker, at - 1);
  }
  return undefined;
}

function skipBlanks(text: string, from: number): number {
  let at = from;
  for (let c = text.charCodeAt(at); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++at));
  return at;
}

const NUMBER_CHARS = new Uint8Array(128);
for (const c of '0123456789+-.eE') NUMBER_CHARS[c.charCodeAt(0)] = 1;

/** YYYY-MM-DD, then optionally a time (T or a blank) and a zone (Z, ±hh, ±hhmm, ±hh:mm). */
const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2})(?::?(\d{2}))?)?)?$/i;

// A blob's lines run day after day, each day's date written the same way: read one once.
let lastDate = '';
let lastDay = '';

/** The UTC day (YYYY-MM-DD) of an ISO date or date-time; rejects anything else. */
function utcDay(usageDate: string): string {
  if (usageDate === lastDate) return lastDay;
  const m = DATE.exec(usageDate.trim());
  if (!m) throw new LineItemError('UsageDate', 'is not an ISO date');
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const offsetHours = m[8] === undefined ? 0 : Number(m[8]);
  const offsetMinutes = m[9] === undefined ? 0 : Number(m[9]);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  )
    throw new LineItemError('UsageDate', 'is not a date');
  let result = `${m[1]}-${m[2]}-${m[3]}`;
  const offset = (offsetHours * 60 + offsetMinutes) * (m[7]?.[0] === '-' ? -1 : 1);
  if (offset !== 0) {
    // setUTCFullYear, not Date.UTC: the latter reads years 0-99 as 1900-1999.
    const utc = new Date(0);
    utc.setUTCFullYear(year, month - 1, day);
    utc.setUTCHours(hour, minute - offset);
    result = utc.toISOString().slice(0, 10);
  }
  lastDate = usageDate;
  lastDay = result;
  return result;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

type Tags = Readonly<Record<string, string>>;

const EMPTY_TAGS: Tags = Object.freeze({});

/**
 * Tags as sent, text by text: the same text gives the same frozen object, so a caller may key
 * on it. Capped in entries and in the length of a text kept; a blob holds a resource's tags on
 * each of its lines, so hits are the rule.
 */
const TAGS_BY_TEXT = new Map<string, Tags | null>();
const TAGS_BY_TEXT_MAX = 4_096;
const TAGS_TEXT_KEPT_MAX = 2_048;

/** Undefined when the tags are unreadable. */
function tagsOf(value: unknown): Tags | undefined {
  if (value === undefined || value === null) return EMPTY_TAGS;
  if (typeof value !== 'string') return tagsFrom(value) ?? undefined;
  const known = TAGS_BY_TEXT.get(value);
  if (known !== undefined) return known ?? undefined;
  let tags: Tags | null;
  if (value.trim() === '') tags = EMPTY_TAGS;
  else {
    try {
      let parsed: unknown = JSON.parse(value);
      // Encoded twice: a JSON string holding the object's JSON.
      if (typeof parsed === 'string') parsed = JSON.parse(parsed);
      tags = tagsFrom(parsed);
    } catch {
      tags = null;
    }
  }
  if (value.length <= TAGS_TEXT_KEPT_MAX) {
    if (TAGS_BY_TEXT.size >= TAGS_BY_TEXT_MAX) TAGS_BY_TEXT.clear();
    TAGS_BY_TEXT.set(value, tags);
  }
  return tags ?? undefined;
}

function tagsFrom(source: unknown): Tags | null {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return null;
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  for (const [key, tag] of Object.entries(source as Record<string, unknown>)) {
    if (key.trim() === '') continue;
    const lower = key.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    const text =
      tag === null || tag === undefined
        ? ''
        : typeof tag === 'object'
          ? isLosslessNumber(tag)
            ? tag.value
            : JSON.stringify(tag)
          : String(tag);
    // A tag named "__proto__" is data, never the object's prototype.
    Object.defineProperty(tags, key, { value: text, enumerable: true, writable: false, configurable: false });
  }
  return Object.freeze(tags);
}
