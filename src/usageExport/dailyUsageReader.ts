import { DecimalSum, subtractDecimal } from '../domain/decimal';
import type {
  DailyUsageEntry,
  DailyUsagePoint,
  DailyUsageReader,
  Dimension,
  PartnerGroupBy,
} from '../domain/dailyUsage';
import type { TableUsageExportStore } from '../storage/tableUsageExportStore';

/** Days in order, then values (the untagged bucket, null, last). */
const byDayThenValue = (a: DailyUsagePoint, b: DailyUsagePoint) =>
  a.day.localeCompare(b.day) ||
  (a.customerId ?? '').localeCompare(b.customerId ?? '') ||
  (a.value === null ? 1 : b.value === null ? -1 : a.value.localeCompare(b.value)) ||
  a.billingCurrency.localeCompare(b.billingCurrency) ||
  a.pricingCurrency.localeCompare(b.pricingCurrency);

function point(e: DailyUsageEntry, withCustomer: boolean): DailyUsagePoint {
  return {
    day: e.day,
    ...(withCustomer ? { customerId: e.customerId } : {}),
    value: e.dimension === 'total' ? (withCustomer ? e.customerId : null) : e.value,
    ...(e.label !== '' ? { label: e.label } : {}),
    billingCurrency: e.billingCurrency,
    billingTotal: e.billingTotal,
    pricingCurrency: e.pricingCurrency,
    pricingTotal: e.pricingTotal,
    lines: e.lines,
  };
}

const inRange = (fromDay: string, toDay: string) => (e: DailyUsageEntry) =>
  e.day >= fromDay && e.day <= toDay;

/**
 * The untagged bucket (value null) per day and currency pair: the day's total less what the tag's
 * values hold, so a tag's figures always add up to the total.
 */
function untagged(tagged: DailyUsageEntry[], totals: DailyUsageEntry[]): DailyUsagePoint[] {
  const sums = new Map<string, { billing: DecimalSum; pricing: DecimalSum; lines: number }>();
  const keyOf = (e: DailyUsageEntry) => `${e.day}|${e.billingCurrency}|${e.pricingCurrency}`;
  const add = (
    e: DailyUsageEntry,
    into: Map<string, { billing: DecimalSum; pricing: DecimalSum; lines: number }>,
  ) => {
    let t = into.get(keyOf(e));
    if (!t) into.set(keyOf(e), (t = { billing: new DecimalSum(), pricing: new DecimalSum(), lines: 0 }));
    t.billing.add(e.billingTotal);
    t.pricing.add(e.pricingTotal);
    t.lines += e.lines;
  };
  for (const e of tagged) add(e, sums);
  const all = new Map<string, { billing: DecimalSum; pricing: DecimalSum; lines: number }>();
  const first = new Map<string, DailyUsageEntry>();
  for (const e of totals) {
    add(e, all);
    if (!first.has(keyOf(e))) first.set(keyOf(e), e);
  }
  const points: DailyUsagePoint[] = [];
  for (const [key, total] of all) {
    const t = sums.get(key);
    const lines = total.lines - (t?.lines ?? 0);
    if (lines <= 0) continue;
    const e = first.get(key) as DailyUsageEntry;
    points.push({
      day: e.day,
      value: null,
      label: '(untagged)',
      billingCurrency: e.billingCurrency,
      billingTotal: t
        ? subtractDecimal(total.billing.toString(), t.billing.toString())
        : total.billing.toString(),
      pricingCurrency: e.pricingCurrency,
      pricingTotal: t
        ? subtractDecimal(total.pricing.toString(), t.pricing.toString())
        : total.pricing.toString(),
      lines,
    });
  }
  return points;
}

/** Entries of several customers with the same day, value and currencies, summed into one. */
function sumOverCustomers(entries: DailyUsageEntry[]): DailyUsagePoint[] {
  const sums = new Map<string, { entry: DailyUsageEntry; billing: DecimalSum; pricing: DecimalSum }>();
  for (const e of entries) {
    const key = `${e.day}|${e.value}|${e.billingCurrency}|${e.pricingCurrency}`;
    let s = sums.get(key);
    if (!s)
      sums.set(
        key,
        (s = { entry: { ...e, lines: 0 }, billing: new DecimalSum(), pricing: new DecimalSum() }),
      );
    s.billing.add(e.billingTotal);
    s.pricing.add(e.pricingTotal);
    s.entry.lines += e.lines;
    if (s.entry.label === '' && e.label !== '') s.entry.label = e.label;
  }
  return [...sums.values()].map(({ entry, billing, pricing }) =>
    point({ ...entry, billingTotal: billing.toString(), pricingTotal: pricing.toString() }, false),
  );
}

/**
 * The routes' reads over the store. A tag grouping adds, per day and currency pair, an untagged
 * bucket (value null), for one customer and partner-wide alike.
 */
export function createDailyUsageReader(store: TableUsageExportStore): DailyUsageReader {
  return {
    async customerDailyUsage(customerId, groupBy: Dimension, fromDay, toDay) {
      const isTag = groupBy.startsWith('tag:');
      const read = await store.readCustomer(
        customerId,
        groupBy,
        fromDay.slice(0, 7),
        toDay.slice(0, 7),
        isTag,
      );
      const wanted = inRange(fromDay, toDay);
      const entries = read.entries.filter(wanted);
      const points = entries.map((e) => point(e, false));
      if (isTag) points.push(...untagged(entries, read.totals.filter(wanted)));
      return { sources: read.sources, points: points.sort(byDayThenValue) };
    },

    async partnerDailyUsage(groupBy: PartnerGroupBy, fromDay, toDay) {
      const dimension = groupBy === 'customer' ? 'total' : groupBy;
      const [fromMonth, toMonth] = [fromDay.slice(0, 7), toDay.slice(0, 7)];
      const wanted = inRange(fromDay, toDay);
      const entries = (await store.readPartner(dimension, fromMonth, toMonth)).filter(wanted);
      // Customers, Azure subscriptions and resource groups belong to one customer: named with it.
      if (dimension === 'total' || dimension === 'subscription' || dimension === 'resourceGroup')
        return { points: entries.map((e) => point(e, true)).sort(byDayThenValue) };
      // Meter categories, meters and tags are shared across customers: summed over them.
      const points = sumOverCustomers(entries);
      if (dimension.startsWith('tag:'))
        points.push(
          ...untagged(entries, (await store.readPartner('total', fromMonth, toMonth)).filter(wanted)),
        );
      return { points: points.sort(byDayThenValue) };
    },

    listExports: (limit) => store.listExports(limit),
  };
}
