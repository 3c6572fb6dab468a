import type { Settings } from '../../../src/config/settings';
import type { SubscriptionDetail } from '../../../src/domain/azurePlan';
import type {
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../../../src/domain/usage';
import type { HistoryPoint, SnapshotInfo } from '../../../src/domain/usageReader';
import type { RunRecord } from '../../../src/domain/runs';
import type { MemoryCustomer, MemoryState } from './memoryUsageStore';

/** A fixed "now" and a snapshot six hours before it, well inside the 12-hour staleness window. */
export const NOW = new Date('2025-05-20T12:00:00.000Z');
export const clock = () => NOW;

export const RUN_ID = '20250520T060000000Z-0a1b2c3d';
export const SNAPSHOT: SnapshotInfo = {
  runId: RUN_ID,
  takenAt: '2025-05-20T06:00:05.000Z',
  billingStartDate: '2025-05-01T00:00:00Z',
  billingEndDate: '2025-05-31T23:59:59Z',
};

export const apiSettings: Pick<Settings, 'api' | 'snapshot' | 'storage'> = {
  api: { staleAfterMs: 12 * 3_600_000 },
  snapshot: {
    schedule: '0 0 */6 * * *',
    resumeSchedule: '0 */5 * * * *',
    timeBudgetMs: 1_500_000,
    customerConcurrency: 4,
    mode: 'incremental',
    fullRefreshMs: 24 * 3_600_000,
  },
  storage: {
    kind: 'connectionString',
    connectionString: 'UseDevelopmentStorage=true',
    tablePrefix: 'apitest',
    requestTimeoutMs: 30_000,
  },
};

/** Deterministic GUIDs: customer n is 00000000-0000-4000-8000-<n as 12 hex digits>. */
export const customerId = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
export const subscriptionId = (n: number, k: number) =>
  `11111111-${k.toString(16).padStart(4, '0')}-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Five daily snapshot runs; run 0 is the current one. */
export const HISTORY_RUNS = [0, 1, 2, 3, 4].map((i) => ({
  runId: i === 0 ? RUN_ID : `202505${20 - i}T060000000Z-0000000${i}`,
  takenAt: new Date(Date.parse(SNAPSHOT.takenAt) - i * 86_400_000).toISOString(),
}));

/** Run i's totals of a record: the record itself for run 0, smaller made-up totals before. */
export function recordAt<T extends { totalCost: string; usdTotalCost?: string }>(
  record: T,
  i: number,
  older: (i: number) => string,
): T {
  if (i === 0) return record;
  const total = older(i);
  return { ...record, totalCost: total, usdTotalCost: record.usdTotalCost === undefined ? undefined : total };
}

/** What the store's history holds for a record: one point per run, with that run's totals. */
function history(
  record: { totalCost: string; usdTotalCost?: string; currencyCode?: string; currencyLocale?: string },
  older: (i: number) => string,
): HistoryPoint[] {
  return HISTORY_RUNS.map(({ runId, takenAt }, i) => {
    const at = recordAt(record, i, older);
    return {
      runId,
      takenAt,
      billingStartDate: '2025-05-01T00:00:00Z',
      billingEndDate: '2025-05-31T23:59:59Z',
      totalCost: at.totalCost,
      usdTotalCost: at.usdTotalCost,
      currencyCode: at.currencyCode,
      currencyLocale: at.currencyLocale,
    };
  });
}

export const customerOlderTotal = (i: number) => `${100 - i}.125`;
export const legacyOlderTotal = (i: number) => `${10 - i}.5`;
export const planOlderTotal = (i: number) => `${5 - i}.00`;

/**
 * Customer 1: legacy (fr-FR), over budget, exact 22-digit amount, a legacy subscription with
 * resources (one with a formula-looking name) and an Azure plan. Even customers: Azure plan in USD.
 * The customer numbered `notSnapshotted` is known but never snapshotted.
 */
export function customer(n: number, options: { notSnapshotted?: boolean } = {}): MemoryCustomer {
  const legacy = n % 2 === 1;
  const total = n === 1 ? '120.5682999999995904716' : `${n}.25`;
  const id = customerId(n);
  const record: CustomerMonthlyUsageRecord = {
    customerId: id,
    name: n === 1 ? 'Contoso "Ltd", Paris' : `Customer ${n}`,
    budget: n === 1 ? '100' : n % 3 === 0 ? undefined : '1000.00',
    percentUsed: n === 1 ? '120.57' : undefined,
    isUpgraded: !legacy,
    totalCost: total,
    usdTotalCost: legacy ? undefined : total,
    currencyCode: legacy ? undefined : 'USD',
    currencyLocale: legacy ? 'fr-FR' : undefined,
    lastModifiedDate: '2025-05-20T05:00:00Z',
  };
  const summary: CustomerUsageSummary | undefined =
    n === 5
      ? undefined
      : {
          customerId: id,
          name: `Customer ${n}`,
          budget: n === 1 ? '100' : undefined,
          billingStartDate: '2025-05-01T00:00:00Z',
          billingEndDate: '2025-05-31T23:59:59Z',
          totalCost: total,
          usdTotalCost: legacy ? undefined : total,
          currencyCode: legacy ? undefined : 'USD',
          currencyLocale: legacy ? 'fr-FR' : undefined,
        };
  const legacySubscription: SubscriptionMonthlyUsageRecord = {
    subscriptionId: subscriptionId(n, 1),
    name: 'Legacy Azure',
    status: 'active',
    offerId: 'MS-AZR-0145P',
    totalCost: '-12.50',
    currencyLocale: 'fr-FR',
  };
  const planSubscription: SubscriptionMonthlyUsageRecord = {
    subscriptionId: subscriptionId(n, 2),
    name: 'Azure plan',
    status: 'active',
    offerId: 'DZH318Z0BPS6:0001:DZH318Z0BPS6',
    partnerOnRecord: 'None',
    totalCost: '5.00',
    usdTotalCost: '5.43',
    currencyCode: 'EUR',
  };
  return {
    notSnapshotted: options.notSnapshotted,
    record,
    summary,
    subscriptions: [
      {
        record: legacySubscription,
        resources: [
          {
            resourceId: 'vm-1',
            name: 'web-01',
            category: 'Virtual Machines',
            subcategory: 'D2 v3',
            quantityUsed: '744.000000001',
            unit: 'Hours',
            totalCost: '70.0000000000000000001',
            currencyLocale: 'fr-FR',
          },
          {
            resourceId: 'st-1',
            name: '=HYPERLINK("http://evil")',
            category: 'Storage',
            subcategory: 'LRS',
            quantityUsed: '12',
            unit: 'GB/Month',
            totalCost: '-0.5',
            currencyLocale: 'fr-FR',
          },
        ],
        history: history(legacySubscription, legacyOlderTotal),
        ...(n === 2 ? { detail: legacyDetail(legacySubscription) } : {}),
      },
      {
        record: planSubscription,
        resources: [],
        history: history(planSubscription, planOlderTotal),
        // Customer 2's plan has its detail stored; the others' views predate it.
        ...(n === 2 ? { detail: planDetail(planSubscription) } : {}),
      },
    ],
    history: history(summary ?? record, customerOlderTotal),
  };
}

export function run(i: number, state: RunRecord['state']): RunRecord {
  const requestedAt = new Date(Date.parse(SNAPSHOT.takenAt) - i * 86_400_000);
  return {
    runId: `${requestedAt.toISOString().replace(/[-:.]/g, '')}-0000000${i}`,
    state,
    trigger: i === 0 ? 'manual' : 'timer',
    correlationId: `corr-${i}`,
    requestedAt: requestedAt.toISOString(),
    startedAt: requestedAt.toISOString(),
    finishedAt: state === 'running' || state === 'queued' ? undefined : requestedAt.toISOString(),
    reason: state === 'failed' ? 'PartnerCenterUnavailable' : undefined,
    counts: {
      customersWritten: 7,
      customersFailed: state === 'partial' ? 1 : 0,
      subscriptionsWritten: 14,
      resourcesWritten: 14,
    },
  };
}

/** Customers 1..count, the last one known but never snapshotted. */
export function populatedState(count = 7): MemoryState {
  return {
    snapshot: SNAPSHOT,
    partner: {
      id: 'partner-tenant-1',
      name: 'Fabrikam CSP',
      customersOverBudget: 1,
      customersTrendingOver: 2,
      customersWithUsageBasedSubscription: count - 1,
      billingStartDate: '2025-05-01T00:00:00Z',
      billingEndDate: '2025-05-31T23:59:59Z',
      totalCost: '1234.5678901234567890123',
      currencyCode: 'USD',
    },
    customers: Array.from({ length: count }, (_, i) => customer(i + 1, { notSnapshotted: i + 1 === count })),
    runs: [run(0, 'succeeded'), run(1, 'partial'), run(2, 'failed')],
  };
}

/** A legacy subscription's stored detail: its own summary only. */
function legacyDetail(subscription: SubscriptionMonthlyUsageRecord): SubscriptionDetail {
  return {
    summary: {
      subscriptionId: subscription.subscriptionId,
      name: subscription.name,
      billingStartDate: '2025-05-14T00:00:00Z',
      billingEndDate: '2025-06-13T23:59:59Z',
      totalCost: subscription.totalCost,
      currencyLocale: 'fr-FR',
    },
    meters: [],
    resources: [],
    azureSubscriptions: [],
  };
}

export const AZURE_SUB_A = 'aaaaaaaa-0000-4000-8000-000000000001';
export const AZURE_SUB_B = 'bbbbbbbb-0000-4000-8000-000000000002';
/** A resource URI past the Table key limit, with characters keys forbid. */
export const HOSTILE_URI = `/subscriptions/${AZURE_SUB_B}/resourceGroups/rg.shared(1)/providers/Microsoft.Web/sites/app#1?x=\\y${'/nested'.repeat(160)}`;
export const HOSTILE_METER = 'DZH318Z0BNVX-005J-Data Transfer In (GB)/#?\\\u0001';

/**
 * An Azure plan's stored detail: two Azure subscriptions (one listed without usage would be a
 * third), groups TESTRG1 in both and rg.shared(1) in one, a hostile meter id and URI. Costs
 * sum to the plan's 5.00 EUR exactly.
 */
function planDetail(plan: SubscriptionMonthlyUsageRecord): SubscriptionDetail {
  const resource = (
    azureSub: string,
    group: string,
    name: string,
    totalCost: string,
    usdTotalCost: string,
    uri = `/subscriptions/${azureSub}/resourceGroups/${group}/providers/Microsoft.Compute/virtualMachines/${name}`,
  ) => ({
    subscriptionId: plan.subscriptionId,
    resourceUri: uri,
    resourceType: 'Microsoft.Compute',
    entitlementId: azureSub,
    entitlementName: azureSub === AZURE_SUB_A ? 'Microsoft Azure' : 'Dev/Test',
    resourceGroupName: group,
    name,
    totalCost,
    usdTotalCost,
    currencyCode: 'EUR',
    lastModifiedDate: '2025-05-20T04:00:00Z',
  });
  return {
    summary: {
      subscriptionId: plan.subscriptionId,
      billingStartDate: '2025-05-01T00:00:00Z',
      billingEndDate: '2025-06-01T00:00:00Z',
      totalCost: plan.totalCost,
      usdTotalCost: plan.usdTotalCost,
      currencyCode: 'EUR',
    },
    meters: [
      {
        subscriptionId: plan.subscriptionId,
        meterId: HOSTILE_METER,
        meterName: 'Data Transfer In',
        category: 'Bandwidth',
        subcategory: 'Bandwidth',
        quantityUsed: '0.011290000000000000001',
        unit: '1 GB',
        totalCost: '0.000000000000000000001',
        usdTotalCost: '0',
        currencyCode: 'EUR',
      },
      {
        subscriptionId: plan.subscriptionId,
        meterId: 'DZH318Z0BQ4X-0001-D2s v3/D2s v3 (1 Hour)',
        meterName: 'D2s v3/D2s v3',
        category: 'Virtual Machines',
        quantityUsed: '744',
        unit: '1 Hour',
        totalCost: '4.999999999999999999999',
        usdTotalCost: '5.43',
        currencyCode: 'EUR',
      },
    ],
    resources: [
      resource(AZURE_SUB_A, 'TESTRG1', 'vm-1', '1.100000000000000000001', '1.2'),
      resource(AZURE_SUB_A, 'testrg1', 'vm-2', '0.9', '1'),
      resource(AZURE_SUB_B, 'TESTRG1', 'vm-3', '2.5', '2.73'),
      resource(AZURE_SUB_B, 'rg.shared(1)', 'app#1', '0.499999999999999999999', '0.5', HOSTILE_URI),
    ],
    azureSubscriptions: [
      {
        id: AZURE_SUB_A,
        friendlyName: 'Microsoft Azure',
        status: 'active',
        subscriptionId: plan.subscriptionId,
      },
      { id: AZURE_SUB_B, friendlyName: 'Dev/Test', status: 'active', subscriptionId: plan.subscriptionId },
      {
        id: 'cccccccc-0000-4000-8000-000000000003',
        friendlyName: 'Idle',
        status: 'disabled',
        subscriptionId: plan.subscriptionId,
      },
    ],
  };
}
