import {
  AZURE_PLAN_OFFER_ID,
  LEGACY_OFFER_ID,
  LEGACY_SUBSCRIPTION_NAMES,
  LOCALES,
  NAME_SECTORS,
  NAME_STEMS,
  RATE_SCALE,
  RATES,
  RESOURCE_ENVIRONMENTS,
  RESOURCE_KINDS,
} from './catalog';
import { azurePlanProfile, type AzurePlanProfile } from './azurePlan';
import { ONE } from './money';
import { Permutation32, Rng } from './prng';

/** Legacy = Microsoft Azure (MS-AZR-0145P) subscriptions; azurePlan = upgraded to an Azure plan. */
export type CustomerKind = 'legacy' | 'azurePlan';

/** Which name keys a CustomerUsageSummary carries; the documented examples differ. */
export type SummaryNaming = 'both' | 'idAndName' | 'resourceIdAndName';

/** A customer as generated from the seed; amounts are full-month figures, not yet time-scaled. */
export interface CustomerProfile {
  index: number;
  /** Lower-case GUID, as Partner Center writes customer tenant ids. */
  id: string;
  name: string;
  kind: CustomerKind;
  /** The billing locale; only legacy customers' records carry it. */
  currencyLocale: string;
  /** ISO currency of every cost of this customer; only Azure-plan records carry it. */
  currencyCode: string;
  /** Local units per USD times 10^10. */
  rate: bigint;
  /**
   * Spending budget in local units; undefined = no budget set. Generated budgets are whole; one set
   * through PATCH usagebudget may have decimals (at most 15 significant digits).
   */
  budget: number | undefined;
  /** The documented typo: this customer's usage summary spells the budget key "ammount". */
  budgetKey: 'amount' | 'ammount';
  hasCustomerSpendingBudget: boolean;
  summaryNaming: SummaryNaming;
  subscriptions: SubscriptionProfile[];
}

export interface SubscriptionProfile {
  index: number;
  /** A GUID; a few legacy ones upper case, as in the documented example. */
  id: string;
  name: string;
  offerId: string;
  status: 'active' | 'suspended';
  partnerOnRecord: string | undefined;
  /** Full-month cost in USD, in 10^-18 units. */
  fullMonthUsd: bigint;
  /** Resources behind a legacy subscription (Azure plans have none through this API). */
  resourceCount: number;
}

export interface ResourceProfile {
  index: number;
  id: string;
  name: string;
  category: string;
  subcategory: string;
  unit: string;
  /** Share of the subscription's cost, relative to the other resources' weights. */
  weight: number;
  /** Full-month quantity in 10^-15 units. */
  fullMonthQuantity: bigint;
}

export const QUANTITY_SCALE = 15;

/**
 * The seeded, lazily generated customer base. Nothing is stored: customer i is rebuilt from
 * hash(seed, i) on every call, so a sandbox of 100,000 customers costs no memory.
 */
export class SandboxData {
  private readonly permutation: Permutation32;
  /** Budgets set through PATCH usagebudget, by customer index; the only state besides the seed. */
  private readonly budgets = new Map<number, number | undefined>();
  private changes = 0;

  constructor(
    readonly seed: number,
    readonly customerCount: number,
    /** Average subscriptions per customer; undefined: the recorded mix (see generateCustomer). */
    readonly subscriptionsPerCustomer?: number,
  ) {
    if (!Number.isInteger(customerCount) || customerCount < 0 || customerCount > 0xffffffff) {
      throw new Error(`customers must be a whole number up to 2^32-1, got ${customerCount}`);
    }
    if (
      subscriptionsPerCustomer !== undefined &&
      !(
        Number.isInteger(subscriptionsPerCustomer) &&
        subscriptionsPerCustomer >= 0 &&
        subscriptionsPerCustomer <= 50
      )
    ) {
      throw new Error(
        `subscriptionsPerCustomer must be a whole number 0-50, got ${subscriptionsPerCustomer}`,
      );
    }
    this.permutation = new Permutation32(seed);
  }

  customer(index: number): CustomerProfile {
    if (!Number.isInteger(index) || index < 0 || index >= this.customerCount) {
      throw new RangeError(`no customer ${index} (there are ${this.customerCount})`);
    }
    const customer = generateCustomer(
      this.seed,
      index,
      this.permutation.forward(index),
      this.subscriptionsPerCustomer,
    );
    if (this.budgets.has(index)) customer.budget = this.budgets.get(index);
    return customer;
  }

  /** Sets (or, with undefined, removes) a customer's spending budget, as PATCH usagebudget does. */
  setBudget(customer: CustomerProfile, amount: number | undefined): void {
    this.budgets.set(customer.index, amount);
    this.changes++;
  }

  /** Counts budget changes, so caches of derived figures (the partner totals) know when to drop. */
  get version(): number {
    return this.changes;
  }

  /** The customer with this tenant id (any letter case), if the sandbox has one. */
  findCustomer(id: string): CustomerProfile | undefined {
    const lower = id.toLowerCase();
    if (!/^[0-9a-f]{8}-/.test(lower)) return undefined;
    const index = this.permutation.inverse(parseInt(lower.slice(0, 8), 16));
    if (index >= this.customerCount) return undefined;
    const customer = this.customer(index);
    return customer.id === lower ? customer : undefined;
  }

  /** Customers in list order, generated one at a time. */
  *customers(from = 0, to = this.customerCount): Generator<CustomerProfile> {
    for (let i = Math.max(0, from); i < Math.min(to, this.customerCount); i++) yield this.customer(i);
  }

  /** The Azure subscriptions, meters and resources behind an Azure plan. */
  azurePlan(customer: CustomerProfile, plan: SubscriptionProfile): AzurePlanProfile {
    if (customer.kind !== 'azurePlan') throw new Error(`subscription ${plan.id} is not an Azure plan`);
    return azurePlanProfile(this.seed, customer, plan);
  }

  resources(customer: CustomerProfile, subscription: SubscriptionProfile): ResourceProfile[] {
    const rng = Rng.of(this.seed, 'resources', customer.index, subscription.index);
    return Array.from({ length: subscription.resourceCount }, (_, index) => {
      const kind = rng.pick(RESOURCE_KINDS);
      const environment = rng.pick(RESOURCE_ENVIRONMENTS);
      return {
        index,
        id: rng.guid(),
        name: `${kind.prefix}-${environment}-${String(index + 1).padStart(3, '0')}`,
        category: kind.category,
        subcategory: kind.subcategory,
        unit: kind.unit,
        weight: rng.int(1, 1000),
        fullMonthQuantity: BigInt(rng.int(0, 2000)) * 10n ** 15n + rng.digits(15),
      };
    });
  }
}

function generateCustomer(
  seed: number,
  index: number,
  idPrefix: number,
  subscriptionsPerCustomer: number | undefined,
): CustomerProfile {
  const rng = Rng.of(seed, 'customer', index);
  const id = rng.guid(idPrefix);
  const kind: CustomerKind = rng.chance(0.6) ? 'legacy' : 'azurePlan';
  const locale = rng.pick(LOCALES);
  const currencyCode = kind === 'legacy' ? locale.currency : rng.pick(Object.keys(RATES));
  const rate = RATES[currencyCode];
  const stem = rng.pick(NAME_STEMS);
  const sector = rng.pick(NAME_SECTORS);
  const name =
    locale.locale === 'ja-JP'
      ? `${locale.suffix} ${stem} ${sector} ${index + 1}`
      : `${stem} ${sector} ${index + 1} ${locale.suffix}`;

  // The recorded mix averages about 1.7 (one customer in ten has none; legacy ones 1-5, Azure plan
  // ones 1-2). With an average asked for, each customer gets 0 to twice it, evenly.
  const subscriptionCount =
    subscriptionsPerCustomer !== undefined
      ? rng.int(0, 2 * subscriptionsPerCustomer)
      : rng.chance(0.1)
        ? 0
        : kind === 'legacy'
          ? rng.pick([1, 1, 1, 2, 2, 3, 4, 5])
          : rng.pick([1, 1, 1, 1, 2]);
  const subscriptions = Array.from({ length: subscriptionCount }, (_, j) =>
    generateSubscription(seed, index, j, kind),
  );

  const fullMonthLocal =
    subscriptions.reduce((sum, s) => sum + (s.fullMonthUsd * rate) / RATE_SCALE, 0n) / ONE;
  let budget: number | undefined;
  if (rng.chance(0.75)) {
    // One in six budgets sits well under the month's spend, so those customers cross it mid-month.
    const factor = rng.chance(1 / 6) ? 0.05 + rng.next() * 0.55 : 1.1 + rng.next() * 1.9;
    budget = Math.max(1, Math.round(Number(fullMonthLocal) * factor));
  }

  return {
    index,
    id,
    name,
    kind,
    currencyLocale: locale.locale,
    currencyCode,
    rate,
    budget,
    budgetKey: kind === 'legacy' && budget !== undefined && rng.chance(0.1) ? 'ammount' : 'amount',
    hasCustomerSpendingBudget: rng.chance(0.5),
    summaryNaming: rng.chance(0.5) ? 'both' : kind === 'legacy' ? 'idAndName' : 'resourceIdAndName',
    subscriptions,
  };
}

function generateSubscription(
  seed: number,
  customer: number,
  index: number,
  kind: CustomerKind,
): SubscriptionProfile {
  const rng = Rng.of(seed, 'subscription', customer, index);
  const id = rng.guid();
  if (kind === 'azurePlan') {
    return {
      index,
      id,
      name: 'Azure plan',
      offerId: AZURE_PLAN_OFFER_ID,
      status: 'active',
      partnerOnRecord: rng.chance(0.5) ? String(rng.int(1_000_000, 9_999_999)) : undefined,
      fullMonthUsd: rng.chance(0.1) ? 0n : monthlyUsd(rng),
      resourceCount: 0,
    };
  }
  const roll = rng.next();
  // Most subscriptions hold a handful of resources; one in twenty holds hundreds, so paging matters.
  const resourceCount =
    roll < 0.08 ? 0 : roll < 0.78 ? rng.int(1, 12) : roll < 0.95 ? rng.int(13, 60) : rng.int(100, 300);
  return {
    index,
    id: rng.chance(0.1) ? id.toUpperCase() : id,
    name: rng.pick(LEGACY_SUBSCRIPTION_NAMES),
    offerId: LEGACY_OFFER_ID,
    status: rng.chance(0.05) ? 'suspended' : 'active',
    partnerOnRecord: undefined,
    fullMonthUsd: resourceCount === 0 ? 0n : monthlyUsd(rng),
    resourceCount,
  };
}

/** Roughly log-uniform between $1 and $5,000 a month, with an 18-digit fraction. */
function monthlyUsd(rng: Rng): bigint {
  const dollars = Math.floor(10 ** (rng.next() * 3.7));
  return BigInt(dollars) * ONE + rng.digits(18);
}
