import { RATE_SCALE } from './catalog';
import { billingPeriodAt, type BillingPeriod } from './clock';
import type { CustomerProfile, ResourceProfile, SubscriptionProfile } from './data';
import { mulDiv, parseDecimal, percentOf, splitByWeight } from './money';
import { hash32 } from './prng';

/**
 * The instant usage is rated up to. Partner Center's figures lag and move in steps, so the sandbox
 * rates usage up to the last whole interval; the billing period is the calendar month (UTC).
 */
export interface UsageMoment {
  asOf: number;
  period: BillingPeriod;
  /** Milliseconds of the period rated so far and the period's length: cost = full month × ratio. */
  elapsed: bigint;
  length: bigint;
}

export function usageMoment(nowMs: number, intervalMs: number): UsageMoment {
  const period = billingPeriodAt(nowMs);
  const asOf = Math.max(period.start, Math.floor(nowMs / intervalMs) * intervalMs);
  return {
    asOf,
    period,
    elapsed: BigInt(asOf - period.start),
    length: BigInt(period.end - period.start),
  };
}

/** How far back a customer's last move is looked for; beyond it, the period's start. */
const MAX_STILL_INTERVALS = 100_000;

/**
 * The moment one customer's usage stands at when only a `share` of customers moves per interval:
 * at each interval boundary each customer is drawn (seeded, with probability `share`), and its
 * usage is rated up to the last boundary it was drawn at, or the period's start. So advancing the
 * clock by one interval moves about `share` of the customers; the others answer exactly as before
 * (records, summaries, subscriptions and resources alike). `share` 1: every customer moves.
 */
export function customerMoment(
  moment: UsageMoment,
  intervalMs: number,
  share: number,
  seed: number,
  customerIndex: number,
): UsageMoment {
  if (share >= 1) return moment;
  const threshold = share * 2 ** 32;
  let asOf = moment.asOf;
  for (let i = 0; asOf > moment.period.start && i < MAX_STILL_INTERVALS; i++, asOf -= intervalMs)
    if (hash32(seed, 'moves', customerIndex, asOf) < threshold) break;
  asOf = Math.max(asOf, moment.period.start);
  if (asOf === moment.asOf) return moment;
  return { ...moment, asOf, elapsed: BigInt(asOf - moment.period.start) };
}

export interface SubscriptionUsage {
  subscription: SubscriptionProfile;
  /** In the customer's currency, 10^-18 units. */
  totalCost: bigint;
  usdTotalCost: bigint;
}

export interface CustomerUsage {
  customer: CustomerProfile;
  subscriptions: SubscriptionUsage[];
  totalCost: bigint;
  usdTotalCost: bigint;
  /** Decimal text, two decimals at most; "0" without a budget. */
  percentUsed: string;
  overBudget: boolean;
  /** Under budget now, over it at this pace by the end of the period. */
  trendingOver: boolean;
}

export function subscriptionUsage(
  customer: CustomerProfile,
  subscription: SubscriptionProfile,
  moment: UsageMoment,
): SubscriptionUsage {
  const usdTotalCost = mulDiv(subscription.fullMonthUsd, moment.elapsed, moment.length);
  return { subscription, usdTotalCost, totalCost: mulDiv(usdTotalCost, customer.rate, RATE_SCALE) };
}

/** A customer's figures at a moment; totals are exact sums of the subscriptions' figures. */
export function customerUsage(customer: CustomerProfile, moment: UsageMoment): CustomerUsage {
  const subscriptions = customer.subscriptions.map((s) => subscriptionUsage(customer, s, moment));
  const totalCost = subscriptions.reduce((sum, s) => sum + s.totalCost, 0n);
  const usdTotalCost = subscriptions.reduce((sum, s) => sum + s.usdTotalCost, 0n);
  const budget = customer.budget === undefined ? undefined : parseDecimal(customer.budget.toFixed(6));
  const overBudget = budget !== undefined && totalCost > budget;
  const trendingOver =
    budget !== undefined &&
    !overBudget &&
    moment.elapsed > 0n &&
    totalCost * moment.length > budget * moment.elapsed;
  return {
    customer,
    subscriptions,
    totalCost,
    usdTotalCost,
    percentUsed: customer.budget === undefined ? '0' : percentOf(totalCost, customer.budget),
    overBudget,
    trendingOver,
  };
}

export interface ResourceUsage {
  resource: ResourceProfile;
  /** 10^-15 units. */
  quantityUsed: bigint;
  /** In the customer's currency, 10^-18 units; the resources of a subscription sum to its cost exactly. */
  totalCost: bigint;
}

export function resourceUsage(
  usage: SubscriptionUsage,
  resources: readonly ResourceProfile[],
  moment: UsageMoment,
): ResourceUsage[] {
  const costs = splitByWeight(
    usage.totalCost,
    resources.map((r) => r.weight),
  );
  return resources.map((resource, i) => ({
    resource,
    totalCost: costs[i],
    quantityUsed: mulDiv(resource.fullMonthQuantity, moment.elapsed, moment.length),
  }));
}
