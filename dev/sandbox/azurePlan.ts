// The detail behind an Azure plan: its Azure subscriptions (entitlements), meters and resources.
// Generated from a stream of its own (seed, customer, plan), so adding it changed none of the
// figures the sandbox served before; the costs are the plan's own figures split exactly.

import {
  ENTITLEMENT_NAMES,
  HOSTILE_NAME_TAILS,
  PLAN_METERS,
  PLAN_RESOURCE_GROUPS,
  PLAN_RESOURCE_TYPES,
} from './catalog';
import type { CustomerProfile, SubscriptionProfile } from './data';
import { mulDiv, splitByWeight } from './money';
import { Rng } from './prng';
import type { SubscriptionUsage, UsageMoment } from './usage';

export interface EntitlementProfile {
  /** The Azure subscription id (a lower-case GUID). */
  id: string;
  friendlyName: string;
  status: 'active' | 'disabled';
  resourceGroups: string[];
}

export interface PlanMeterProfile {
  index: number;
  meterId: string;
  meterName: string;
  category: string;
  subcategory: string;
  unit: string;
  weight: number;
  /** Full-month quantity in 10^-15 units. */
  fullMonthQuantity: bigint;
}

export interface PlanResourceProfile {
  index: number;
  resourceUri: string;
  resourceType: string;
  name: string;
  /** Index into the plan's entitlements. */
  entitlement: number;
  resourceGroup: string;
  weight: number;
}

export interface AzurePlanProfile {
  entitlements: EntitlementProfile[];
  meters: PlanMeterProfile[];
  resources: PlanResourceProfile[];
}

/** URIs of about one resource in twelve are padded past this: an Azure Table key holds 1 KiB at most. */
export const LONG_URI_CHARS = 1100;

export function azurePlanProfile(
  seed: number,
  customer: CustomerProfile,
  plan: SubscriptionProfile,
): AzurePlanProfile {
  const rng = Rng.of(seed, 'azurePlan', customer.index, plan.index);
  const entitlements = Array.from({ length: rng.pick([1, 1, 2, 2, 3, 4]) }, (_, i) => ({
    id: rng.guid(),
    friendlyName: i === 0 ? 'Microsoft Azure' : rng.pick(ENTITLEMENT_NAMES),
    status: rng.chance(0.1) ? ('disabled' as const) : ('active' as const),
    resourceGroups: distinct(rng, PLAN_RESOURCE_GROUPS, rng.int(1, 3)),
  }));
  // A plan without usage has no meters and no resources, only its Azure subscriptions.
  if (plan.fullMonthUsd === 0n) return { entitlements, meters: [], resources: [] };

  const product = `DZH318Z0${code(rng, 4)}`;
  const meters = Array.from({ length: rng.int(2, 12) }, (_, index) => {
    const kind = rng.pick(PLAN_METERS);
    const sku = index.toString(36).toUpperCase().padStart(4, '0');
    return {
      index,
      meterId: `${product}-${sku}-${kind.meterName} (${kind.unit})`,
      ...kind,
      weight: rng.int(1, 1000),
      fullMonthQuantity: BigInt(rng.int(0, 5000)) * 10n ** 15n + rng.digits(15),
    };
  });

  // One plan in ten has hundreds of resources, so the client's paging is exercised.
  const resourceCount = rng.chance(0.1) ? rng.int(120, 300) : rng.int(3, 25);
  const resources = Array.from({ length: resourceCount }, (_, index) => {
    // The first resources go one to each Azure subscription, so every one of them has usage.
    const entitlement = index < entitlements.length ? index : rng.int(0, entitlements.length - 1);
    const { id: azureSubscription, resourceGroups } = entitlements[entitlement];
    const resourceGroup = rng.pick(resourceGroups);
    const type = rng.pick(PLAN_RESOURCE_TYPES);
    const tail = rng.chance(0.2) ? rng.pick(HOSTILE_NAME_TAILS) : '';
    const name = `${type.prefix}-${String(index + 1).padStart(3, '0')}${tail}`;
    let path = `/subscriptions/${azureSubscription}/resourceGroups/${resourceGroup}/providers/${type.provider}/${type.kind}/${name}`;
    if (rng.chance(1 / 12)) {
      // Nested child resources make real URIs long; these pass the Table key limit.
      for (let depth = 1; path.length < LONG_URI_CHARS; depth++) {
        path += `/nestedResources/${name}-child-${depth}-${code(rng, 24).toLowerCase()}`;
      }
    }
    return {
      index,
      resourceUri: path,
      resourceType: type.provider,
      name,
      entitlement,
      resourceGroup,
      weight: rng.int(1, 1000),
    };
  });
  return { entitlements, meters, resources };
}

export interface MeterUsage {
  meter: PlanMeterProfile;
  /** 10^-15 units. */
  quantityUsed: bigint;
  /** 10^-18 units; the meters of a plan sum to its figures exactly. */
  totalCost: bigint;
  usdTotalCost: bigint;
}

export interface PlanResourceUsage {
  resource: PlanResourceProfile;
  entitlement: EntitlementProfile;
  /** 10^-18 units; the resources of a plan sum to its figures exactly. */
  totalCost: bigint;
  usdTotalCost: bigint;
}

export interface AzurePlanUsage {
  plan: SubscriptionUsage;
  profile: AzurePlanProfile;
  meters: MeterUsage[];
  resources: PlanResourceUsage[];
}

/** A plan's meters and resources at a moment, each set summing exactly to the plan's figures. */
export function azurePlanUsage(
  plan: SubscriptionUsage,
  profile: AzurePlanProfile,
  moment: UsageMoment,
): AzurePlanUsage {
  const meterWeights = profile.meters.map((m) => m.weight);
  const meterCosts = splitByWeight(plan.totalCost, meterWeights);
  const meterUsd = splitByWeight(plan.usdTotalCost, meterWeights);
  const resourceWeights = profile.resources.map((r) => r.weight);
  const resourceCosts = splitByWeight(plan.totalCost, resourceWeights);
  const resourceUsd = splitByWeight(plan.usdTotalCost, resourceWeights);
  return {
    plan,
    profile,
    meters: profile.meters.map((meter, i) => ({
      meter,
      quantityUsed: mulDiv(meter.fullMonthQuantity, moment.elapsed, moment.length),
      totalCost: meterCosts[i],
      usdTotalCost: meterUsd[i],
    })),
    resources: profile.resources.map((resource, i) => ({
      resource,
      entitlement: profile.entitlements[resource.entitlement],
      totalCost: resourceCosts[i],
      usdTotalCost: resourceUsd[i],
    })),
  };
}

function distinct<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const pool = [...items];
  return Array.from(
    { length: Math.min(count, pool.length) },
    () => pool.splice(rng.int(0, pool.length - 1), 1)[0],
  );
}

const CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

function code(rng: Rng, length: number): string {
  return Array.from({ length }, () => CODE_CHARS[rng.int(0, CODE_CHARS.length - 1)]).join('');
}
