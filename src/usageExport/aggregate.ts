import { DecimalSum } from '../domain/decimal';
import type { DailyUsageEntry } from '../domain/dailyUsage';
import type { LineFields } from './lineFields';

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

  add(fields: LineFields): void {
    const key =
      fields.customerId +
      SEP +
      fields.day +
      SEP +
      fields.azureSubscription +
      SEP +
      fields.resourceGroup +
      SEP +
      fields.meterCategory +
      SEP +
      fields.meterId +
      SEP +
      fields.meterName +
      SEP +
      fields.tags +
      SEP +
      fields.billingCurrency +
      SEP +
      fields.pricingCurrency;
    let group = this.groups.get(key);
    if (!group) {
      group = { fields, billing: new DecimalSum(), pricing: new DecimalSum(), lines: 0 };
      this.groups.set(key, group);
    }
    group.billing.add(fields.billingTotal);
    if (fields.pricingTotal !== '') group.pricing.add(fields.pricingTotal);
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
