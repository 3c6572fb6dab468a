import { DecimalSum } from '../domain/decimal';
import type { DailyUsageEntry } from '../domain/dailyUsage';
import { usageLineReader, type UsageLinePart } from '../graph/lineItem';

/** The fields of a line item the aggregate reads (the parser's core fields come with them). */
const AGGREGATED_FIELDS = [
  'customerName',
  'subscriptionId',
  'entitlementId',
  'entitlementDescription',
  'resourceGroup',
  'meterCategory',
  'meterId',
  'meterName',
  'tags',
] as const;

/** A parsed line as the aggregate takes it. */
export type AggregatedLine = UsageLinePart<(typeof AGGREGATED_FIELDS)[number]>;

/** Parses a line into what the aggregate reads, under the line-item rules (src/graph/lineItem.ts). */
export const readAggregatedLine = usageLineReader(AGGREGATED_FIELDS);

/** One group's attributes, as the entries are built from them. */
interface LineFields {
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
  /** The tags as JSON text ('' for none): keys unique in any casing, values text. */
  tags: string;
  billingCurrency: string;
  pricingCurrency: string;
}

/** Tags objects (shared per tags text by the parser) → their JSON text, the group key's part. */
const TAGS_TEXT = new WeakMap<Readonly<Record<string, string>>, string>();

function tagsText(tags: Readonly<Record<string, string>>): string {
  let text = TAGS_TEXT.get(tags);
  if (text === undefined) {
    text = Object.keys(tags).length === 0 ? '' : JSON.stringify(tags);
    TAGS_TEXT.set(tags, text);
  }
  return text;
}

/** One group of identical line-item attributes: its exact sums and line count. */
interface Group {
  fields: LineFields;
  billing: DecimalSum;
  pricing: DecimalSum;
  lines: number;
}

const SEP = '\u0001';

/**
 * Sums a blob's line items. Lines with the same customer, day, Azure subscription, resource
 * group, meter, tags and currencies fall into one group, so memory grows with the number of
 * distinct groups (the aggregate keys), never with the number of lines. `entries()` then spreads
 * each group over the dimensions the API serves: the customer's daily total, the Azure
 * subscription, the resource group, the meter category, the meter and each tag key.
 */
export class UsageAggregate {
  private readonly groups = new Map<string, Group>();

  get groupCount(): number {
    return this.groups.size;
  }

  add(line: AggregatedLine): void {
    const azureSubscription = line.entitlementId || line.subscriptionId || '';
    const tags = tagsText(line.tags);
    const pricingCurrency = line.pricingCurrency ?? '';
    const key =
      line.customerId +
      SEP +
      line.usageDay +
      SEP +
      azureSubscription +
      SEP +
      (line.resourceGroup ?? '') +
      SEP +
      (line.meterCategory ?? '') +
      SEP +
      (line.meterId ?? '') +
      SEP +
      (line.meterName ?? '') +
      SEP +
      tags +
      SEP +
      line.billingCurrency +
      SEP +
      pricingCurrency;
    let group = this.groups.get(key);
    if (!group) {
      const fields: LineFields = {
        customerId: line.customerId,
        customerName: line.customerName ?? '',
        day: line.usageDay,
        azureSubscription,
        azureSubscriptionName: line.entitlementDescription ?? '',
        resourceGroup: line.resourceGroup ?? '',
        meterCategory: line.meterCategory ?? '',
        meterId: line.meterId ?? '',
        meterName: line.meterName ?? '',
        tags,
        billingCurrency: line.billingCurrency,
        pricingCurrency,
      };
      group = { fields, billing: new DecimalSum(), pricing: new DecimalSum(), lines: 0 };
      this.groups.set(key, group);
    }
    group.billing.add(line.billingPreTaxTotal);
    if (line.pricingPreTaxTotal !== undefined) group.pricing.add(line.pricingPreTaxTotal);
    group.lines++;
  }

  /** The aggregates per customer: each customer's entries, every dimension, exact sums. */
  entriesByCustomer(): Map<string, { customerName: string; entries: DailyUsageEntry[] }> {
    const sums = new Map<
      string,
      {
        entry: Omit<DailyUsageEntry, 'billingTotal' | 'pricingTotal'>;
        billing: DecimalSum;
        pricing: DecimalSum;
      }
    >();
    const names = new Map<string, string>();
    for (const group of this.groups.values()) {
      const f = group.fields;
      if (f.customerName !== '' && !names.has(f.customerId)) names.set(f.customerId, f.customerName);
      for (const [dimension, value, label] of dimensionsOf(f)) {
        const key =
          f.customerId +
          SEP +
          f.day +
          SEP +
          dimension +
          SEP +
          value +
          SEP +
          f.billingCurrency +
          SEP +
          f.pricingCurrency;
        let sum = sums.get(key);
        if (!sum) {
          sum = {
            entry: {
              customerId: f.customerId,
              day: f.day,
              dimension,
              value,
              label,
              billingCurrency: f.billingCurrency,
              pricingCurrency: f.pricingCurrency,
              lines: 0,
            },
            billing: new DecimalSum(),
            pricing: new DecimalSum(),
          };
          sums.set(key, sum);
        }
        sum.billing.addSum(group.billing);
        sum.pricing.addSum(group.pricing);
        sum.entry.lines += group.lines;
        if (sum.entry.label === '' && label !== '') sum.entry.label = label;
      }
    }
    const out = new Map<string, { customerName: string; entries: DailyUsageEntry[] }>();
    for (const { entry, billing, pricing } of sums.values()) {
      let customer = out.get(entry.customerId);
      if (!customer) {
        customer = { customerName: names.get(entry.customerId) ?? '', entries: [] };
        out.set(entry.customerId, customer);
      }
      customer.entries.push({ ...entry, billingTotal: billing.toString(), pricingTotal: pricing.toString() });
    }
    return out;
  }
}

/** The dimension values one group counts under: [dimension, value, label]. */
function dimensionsOf(f: LineFields): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [
    ['total', '', ''],
    ['subscription', f.azureSubscription, f.azureSubscriptionName],
    ['resourceGroup', resourceGroupValue(f), ''],
    ['meterCategory', f.meterCategory, ''],
    ['meter', f.meterId.toLowerCase() || f.meterName, f.meterName],
  ];
  for (const [key, value] of Object.entries(parseTags(f.tags)))
    out.push([`tag:${key.toLowerCase()}`, value, key]);
  return out;
}

/** A resource group is named within its Azure subscription: "{subscription}/{group}", lower-cased. */
function resourceGroupValue(f: LineFields): string {
  return f.resourceGroup === '' ? '' : `${f.azureSubscription}/${f.resourceGroup.toLowerCase()}`;
}

/** Tags as sent (a JSON object, usually JSON-encoded in a string); unreadable tags count as none. */
function parseTags(text: string): Record<string, string> {
  if (text === '' || text === '{}') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (typeof value === 'string') value = JSON.parse(value);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const tags: Record<string, string> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key.trim() === '') continue;
    // Tag keys are case-insensitive in Azure: the first casing seen names the key.
    if (Object.keys(tags).some((k) => k.toLowerCase() === key.toLowerCase())) continue;
    tags[key] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return tags;
}
