import { DecimalSum } from '../domain/decimal';
import type { CustomerEntries, DailyUsageEntry } from '../domain/dailyUsage';
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

/** A line's attributes as the aggregate groups by them ('' for what the line lacks). */
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

/** One group of identical line-item attributes (its key): its exact sums and line count. */
interface Group {
  /** Not part of the key: the first non-empty description seen. */
  subscriptionName: string;
  billing: DecimalSum;
  pricing: DecimalSum;
  lines: number;
}

/** A group's attributes, in the order of its key. */
type KeyFields = [
  day: string,
  azureSubscription: string,
  resourceGroup: string,
  meterCategory: string,
  meterId: string,
  meterName: string,
  tags: string,
  billingCurrency: string,
  pricingCurrency: string,
];

/** A group's attributes as read back from its key, with the customer's id and the description. */
type GroupFields = Omit<LineFields, 'customerName'>;

const SEP = '\u0001';

/**
 * A group's key: its attributes joined, or, when one of them holds the separator (hostile text),
 * the separator and a JSON array, so no two groups ever share a key and the attributes read back
 * exactly from it (a group stores no copy of them).
 */
function groupKey(f: LineFields): string {
  const joined =
    f.day +
    SEP +
    f.azureSubscription +
    SEP +
    f.resourceGroup +
    SEP +
    f.meterCategory +
    SEP +
    f.meterId +
    SEP +
    f.meterName +
    SEP +
    f.tags +
    SEP +
    f.billingCurrency +
    SEP +
    f.pricingCurrency;
  let separators = 0;
  for (let at = joined.indexOf(SEP); at !== -1; at = joined.indexOf(SEP, at + 1)) separators++;
  return separators === 8 && !joined.startsWith(SEP) ? joined : SEP + JSON.stringify(keyFieldsOf(f));
}

function keyFieldsOf(f: LineFields): KeyFields {
  return [
    f.day,
    f.azureSubscription,
    f.resourceGroup,
    f.meterCategory,
    f.meterId,
    f.meterName,
    f.tags,
    f.billingCurrency,
    f.pricingCurrency,
  ];
}

function fieldsOfKey(customerId: string, key: string, group: Group): GroupFields {
  const [
    day,
    azureSubscription,
    resourceGroup,
    meterCategory,
    meterId,
    meterName,
    tags,
    billingCurrency,
    pricingCurrency,
  ] = key.startsWith(SEP) ? (JSON.parse(key.slice(1)) as KeyFields) : (key.split(SEP) as KeyFields);
  return {
    customerId,
    day,
    azureSubscription,
    azureSubscriptionName: group.subscriptionName,
    resourceGroup,
    meterCategory,
    meterId,
    meterName,
    tags,
    billingCurrency,
    pricingCurrency,
  };
}

/**
 * Sums a blob's line items. Lines with the same customer, day, Azure subscription, resource
 * group, meter, tags and currencies fall into one group, so memory grows with the number of
 * distinct groups (the aggregate keys), never with the number of lines. `drain()` then spreads
 * each customer's groups over the dimensions the API serves (the customer's daily total, the
 * Azure subscription, the resource group, the meter category, the meter and each tag key), one
 * customer at a time, and lets go of that customer's groups as it goes.
 *
 * A group holds its key, its sums and the subscription's description, nothing cut from a line:
 * a string sliced from a line keeps the whole decoded chunk it came from alive (V8 slices share
 * their parent), and one such string per group once held a blob's text in memory (1.3 GiB).
 */
export class UsageAggregate {
  private readonly customers = new Map<string, { name: string; groups: Map<string, Group> }>();
  private groups = 0;

  get groupCount(): number {
    return this.groups;
  }

  add(line: AggregatedLine): void {
    const fields: LineFields = {
      customerId: line.customerId,
      customerName: line.customerName ?? '',
      day: line.usageDay,
      azureSubscription: line.entitlementId || line.subscriptionId || '',
      azureSubscriptionName: line.entitlementDescription ?? '',
      resourceGroup: line.resourceGroup ?? '',
      meterCategory: line.meterCategory ?? '',
      meterId: line.meterId ?? '',
      meterName: line.meterName ?? '',
      tags: tagsText(line.tags),
      billingCurrency: line.billingCurrency,
      pricingCurrency: line.pricingCurrency ?? '',
    };
    let customer = this.customers.get(fields.customerId);
    if (!customer) {
      customer = { name: fields.customerName, groups: new Map() };
      this.customers.set(fields.customerId, customer);
    } else if (customer.name === '' && fields.customerName !== '') customer.name = fields.customerName;
    const key = groupKey(fields);
    let group = customer.groups.get(key);
    if (!group) {
      group = {
        subscriptionName: fields.azureSubscriptionName,
        billing: new DecimalSum(),
        pricing: new DecimalSum(),
        lines: 0,
      };
      customer.groups.set(key, group);
      this.groups++;
    } else if (group.subscriptionName === '' && fields.azureSubscriptionName !== '')
      group.subscriptionName = fields.azureSubscriptionName;
    group.billing.add(line.billingPreTaxTotal);
    if (line.pricingPreTaxTotal !== undefined) group.pricing.add(line.pricingPreTaxTotal);
    group.lines++;
  }

  /**
   * Each customer's entries, one customer at a time, in the order customers were first seen;
   * a customer's groups are released once its entries are built, so the aggregate empties as
   * the caller writes. Draining twice yields nothing the second time.
   */
  *drain(): Generator<CustomerEntries> {
    for (const [customerId, customer] of this.customers) {
      this.customers.delete(customerId);
      this.groups -= customer.groups.size;
      yield { customerId, customerName: customer.name, entries: entriesOf(customerId, customer.groups) };
    }
  }
}

/** One customer's groups spread over every dimension, exact sums. */
function entriesOf(customerId: string, groups: Map<string, Group>): DailyUsageEntry[] {
  const sums = new Map<
    string,
    {
      entry: Omit<DailyUsageEntry, 'billingTotal' | 'pricingTotal'>;
      billing: DecimalSum;
      pricing: DecimalSum;
    }
  >();
  for (const [groupKey, group] of groups) {
    const f = fieldsOfKey(customerId, groupKey, group);
    for (const [dimension, value, label] of dimensionsOf(f)) {
      const key = f.day + SEP + dimension + SEP + value + SEP + f.billingCurrency + SEP + f.pricingCurrency;
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
  const entries: DailyUsageEntry[] = [];
  for (const { entry, billing, pricing } of sums.values())
    entries.push({ ...entry, billingTotal: billing.toString(), pricingTotal: pricing.toString() });
  return entries;
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

/** The dimension values one group counts under: [dimension, value, label]. */
function dimensionsOf(f: GroupFields): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [
    ['total', '', ''],
    ['subscription', f.azureSubscription, f.azureSubscriptionName],
    ['resourceGroup', resourceGroupValue(f), ''],
    ['meterCategory', f.meterCategory, ''],
    ['meter', f.meterId.toLowerCase() || f.meterName, f.meterName],
  ];
  for (const [key, value] of parseTags(f.tags)) out.push([`tag:${key.toLowerCase()}`, value, key]);
  return out;
}

/** A resource group is named within its Azure subscription: "{subscription}/{group}", lower-cased. */
function resourceGroupValue(f: GroupFields): string {
  return f.resourceGroup === '' ? '' : `${f.azureSubscription}/${f.resourceGroup.toLowerCase()}`;
}

/**
 * Tags as sent (a JSON object, usually JSON-encoded in a string); unreadable tags count as none.
 * A Map, so a tag named `__proto__` is a tag like any other, never an object's prototype.
 */
function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  if (text === '' || text === '{}') return tags;
  let value: unknown;
  try {
    value = JSON.parse(text);
    if (typeof value === 'string') value = JSON.parse(value);
  } catch {
    return tags;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return tags;
  const seen = new Set<string>();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key.trim() === '') continue;
    // Tag keys are case-insensitive in Azure: the first casing seen names the key.
    if (seen.has(key.toLowerCase())) continue;
    seen.add(key.toLowerCase());
    tags.set(key, typeof v === 'string' ? v : JSON.stringify(v));
  }
  return tags;
}
