import { addDecimals, compareDecimal } from './decimal';
import type { CustomerMonthlyUsageRecord, Decimal } from './usage';

/** One currency's sum over the customers' monthly records. */
export interface CurrencyTotal {
  /** ISO 4217: customers priced by currency (Azure plans). */
  currencyCode?: string;
  /** Pricing locale: legacy customers, when they carry no currency code. */
  currencyLocale?: string;
  totalCost: Decimal;
  customers: number;
  /** Of `customers`, those with an Azure plan (`isUpgraded`). */
  azurePlanCustomers: number;
}

/**
 * Totals computed by the app from every customer's `CustomerMonthlyUsageRecord` of a run, Azure
 * plans included, unlike Partner Center's own `totalCost` in its partner summary (which leaves
 * them out). Amounts in different currencies are never added together.
 */
export interface CustomerTotals {
  byCurrency: CurrencyTotal[];
  /** usdTotalCost summed over the customers priced by currency code that carry one. */
  usd: { totalCost: Decimal; customers: number };
  /** Records summed. */
  customers: number;
  /** Records left out: no totalCost (a list row that lost it), or one that is not a number. */
  customersWithoutTotal: number;
}

/** What a sum reads of a record (a list row may lack any of it). */
export type TotalsRecord = Partial<
  Pick<
    CustomerMonthlyUsageRecord,
    'totalCost' | 'usdTotalCost' | 'currencyCode' | 'currencyLocale' | 'isUpgraded'
  >
>;

const isDecimal = (value: unknown): value is Decimal =>
  typeof value === 'string' && compareDecimal(value, '0') !== undefined;

/** Sums the records per currency code (or locale), exactly; a record without a usable total is counted, not added. */
export function sumCustomerTotals(records: Iterable<TotalsRecord>): CustomerTotals {
  const groups = new Map<
    string,
    { currency: Pick<CurrencyTotal, 'currencyCode' | 'currencyLocale'>; costs: Decimal[]; azurePlan: number }
  >();
  const usd: Decimal[] = [];
  let customers = 0;
  let without = 0;
  for (const record of records) {
    if (!isDecimal(record.totalCost)) {
      without++;
      continue;
    }
    customers++;
    const code = record.currencyCode?.toUpperCase();
    const locale = code === undefined ? record.currencyLocale : undefined;
    const key = code !== undefined ? `code:${code}` : `locale:${locale?.toLowerCase() ?? ''}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        currency: code !== undefined ? { currencyCode: code } : { currencyLocale: locale },
        costs: [],
        azurePlan: 0,
      };
      groups.set(key, group);
    }
    group.costs.push(record.totalCost);
    if (record.isUpgraded === true) group.azurePlan++;
    // As on every route: a USD figure only where Partner Center prices in a currency.
    if (code !== undefined && isDecimal(record.usdTotalCost)) usd.push(record.usdTotalCost);
  }
  const byCurrency = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      ...g.currency,
      totalCost: addDecimals(g.costs),
      customers: g.costs.length,
      azurePlanCustomers: g.azurePlan,
    }));
  return {
    byCurrency,
    usd: { totalCost: addDecimals(usd), customers: usd.length },
    customers,
    customersWithoutTotal: without,
  };
}
