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
 * The routes' reads over the store. A tag grouping adds, per day and currency pair, an untagged
 * bucket (value null): the day's total less what the tag's values hold, so a tag's figures always
 * add up to the customer's total.
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
      const points = read.entries.filter(wanted).map((e) => point(e, false));
      if (isTag) {
        const tagged = new Map<string, { sum: DecimalSum; pricing: DecimalSum; lines: number }>();
        for (const e of read.entries.filter(wanted)) {
          const key = `${e.day}|${e.billingCurrency}|${e.pricingCurrency}`;
          let t = tagged.get(key);
          if (!t) tagged.set(key, (t = { sum: new DecimalSum(), pricing: new DecimalSum(), lines: 0 }));
          t.sum.add(e.billingTotal);
          t.pricing.add(e.pricingTotal);
          t.lines += e.lines;
        }
        for (const total of read.totals.filter(wanted)) {
          const t = tagged.get(`${total.day}|${total.billingCurrency}|${total.pricingCurrency}`);
          const lines = total.lines - (t?.lines ?? 0);
          if (lines <= 0) continue;
          points.push({
            day: total.day,
            value: null,
            label: '(untagged)',
            billingCurrency: total.billingCurrency,
            billingTotal: t ? subtractDecimal(total.billingTotal, t.sum.toString()) : total.billingTotal,
            pricingCurrency: total.pricingCurrency,
            pricingTotal: t ? subtractDecimal(total.pricingTotal, t.pricing.toString()) : total.pricingTotal,
            lines,
          });
        }
      }
      return { sources: read.sources, points: points.sort(byDayThenValue) };
    },

    async partnerDailyUsage(groupBy: PartnerGroupBy, fromDay, toDay) {
      const dimension = groupBy === 'customer' ? 'total' : groupBy;
      const entries = (await store.readPartner(dimension, fromDay.slice(0, 7), toDay.slice(0, 7))).filter(
        inRange(fromDay, toDay),
      );
      if (groupBy === 'customer' || groupBy === 'subscription')
        return { points: entries.map((e) => point(e, true)).sort(byDayThenValue) };
      // Meter categories and meters are shared across customers: summed over them.
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
      }
      const points = [...sums.values()].map(({ entry, billing, pricing }) =>
        point({ ...entry, billingTotal: billing.toString(), pricingTotal: pricing.toString() }, false),
      );
      return { points: points.sort(byDayThenValue) };
    },

    listExports: (limit) => store.listExports(limit),
  };
}
