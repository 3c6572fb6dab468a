import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../../src/domain/usage';
import { createUsageStore, type UsageStoreOptions } from '../../src/storage/tableUsageStore';
import { testTables, uniqueTablePrefix } from '../support/tables';

/** A store over its own tables in the shared test Azurite. */
export async function newStore(options: UsageStoreOptions = {}, prefix = uniqueTablePrefix('st')) {
  const tables = testTables({ tablePrefix: prefix });
  const store = createUsageStore(tables, options);
  await store.ensureTables();
  return Object.assign(store, { tables, prefix });
}

export const guid = (n: number, salt = 0) =>
  `${(salt * 1_000_003 + n).toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export function customerRecord(
  n: number,
  over: Partial<CustomerMonthlyUsageRecord> = {},
): CustomerMonthlyUsageRecord {
  return {
    customerId: guid(n),
    name: `Customer ${n}`,
    budget: '100',
    percentUsed: '12.5',
    isUpgraded: n % 2 === 0,
    totalCost: `${n}.120000000000000001`,
    currencyLocale: 'fr-FR',
    lastModifiedDate: '2025-03-10T11:00:00+00:00',
    ...over,
  };
}

export function customerSummary(n: number, over: Partial<CustomerUsageSummary> = {}): CustomerUsageSummary {
  return {
    customerId: guid(n),
    name: `Customer ${n}`,
    budget: '100',
    billingStartDate: '2025-03-01T00:00:00+00:00',
    billingEndDate: '2025-04-01T00:00:00+00:00',
    totalCost: `${n}.120000000000000001`,
    currencyLocale: 'fr-FR',
    ...over,
  };
}

export function subscriptionRecord(
  n: number,
  over: Partial<SubscriptionMonthlyUsageRecord> = {},
): SubscriptionMonthlyUsageRecord {
  return {
    subscriptionId: guid(n, 7),
    name: `Sub ${n}`,
    status: 'active',
    offerId: 'MS-AZR-0145P',
    totalCost: '33.280000000000001044',
    currencyLocale: 'fr-FR',
    ...over,
  };
}

export function resourceRecord(
  n: number,
  over: Partial<AzureResourceMonthlyUsageRecord> = {},
): AzureResourceMonthlyUsageRecord {
  return {
    resourceId: guid(n, 9),
    name: `vm-${n}`,
    category: 'Virtual Machines',
    subcategory: 'D2 v3',
    quantityUsed: '720.000000000000000001',
    unit: 'Hours',
    totalCost: '120.5682999999995904716',
    currencyLocale: 'fr-FR',
    ...over,
  };
}

export function partnerSummary(over: Partial<PartnerUsageSummary> = {}): PartnerUsageSummary {
  return {
    id: guid(1, 3),
    name: 'Contoso partner',
    customersOverBudget: 1,
    customersTrendingOver: 2,
    customersWithUsageBasedSubscription: 3,
    billingStartDate: '2025-03-01T00:00:00+00:00',
    billingEndDate: '2025-04-01T00:00:00+00:00',
    totalCost: '9999.000000000000000001',
    currencyLocale: 'en-US',
    ...over,
  };
}
