import type { Settings } from '../../src/config/settings';
import { hasResourceBreakdown, type CustomerMonthlyUsageRecord } from '../../src/domain/usage';
import { memoryLogger } from '../../src/observability/logger';
import { RefreshTokenProvider } from '../../src/partnerCenter/auth';
import { createPartnerCenterClient } from '../../src/partnerCenter/client';
import type { PartnerCenterClient } from '../../src/partnerCenter/partnerCenterClient';
import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../dev/sandbox';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import type { InvocationOutcome, SnapshotDependencies } from '../../src/snapshot/runSnapshot';
import type { RunRecord } from '../../src/domain/runs';
import type { UsageReader } from '../../src/domain/usageReader';
import { newStore } from '../storage/factories';

const SECRET_NAMES = {
  clientSecretName: 'partner-center-client-secret',
  refreshTokenName: 'partner-center-refresh-token',
} as const;

/** The real Partner Center client, pointed at a sandbox over HTTP. */
export function clientFor(sandbox: Sandbox, logger = memoryLogger()): SnapshotPartnerCenter {
  const settings: Settings['partnerCenter'] = {
    baseUrl: sandbox.baseUrl,
    authorityHost: sandbox.baseUrl,
    tenantId: sandbox.credentials.tenantId,
    clientId: sandbox.credentials.clientId,
    scope: 'https://api.partnercenter.microsoft.com/user_impersonation offline_access',
    requestsPerMinute: 1_000_000,
    maxConcurrency: 16,
    timeoutMs: 5_000,
    maxRetries: 3,
  };
  const retry = { baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 10_000 };
  const tokens = new RefreshTokenProvider({
    settings,
    secretStore: new LocalSecretStore({
      [SECRET_NAMES.clientSecretName]: sandbox.credentials.clientSecret,
      [SECRET_NAMES.refreshTokenName]: sandbox.credentials.refreshToken,
    }),
    secretNames: SECRET_NAMES,
    logger,
    retry,
    persistDelayMs: 5,
  });
  return createPartnerCenterClient({ settings, tokens, logger, retry });
}

export interface SnapshotHarness {
  sandbox: Sandbox;
  client: SnapshotPartnerCenter;
  store: Awaited<ReturnType<typeof newStore>>;
  logger: ReturnType<typeof memoryLogger>;
  deps(overrides?: Partial<SnapshotDependencies>): SnapshotDependencies;
  close(): Promise<void>;
}

/** A sandbox with a frozen clock (so every read sees the same usage), its client, and a fresh store. */
export async function startSnapshotHarness(options: SandboxOptions = {}): Promise<SnapshotHarness> {
  const sandbox = await startSandbox({
    customers: 20,
    now: '2025-03-15T12:00:00Z',
    freezeClock: true,
    ...options,
  });
  const logger = memoryLogger();
  const client = clientFor(sandbox, logger);
  const store = await newStore();
  return {
    sandbox,
    client,
    store,
    logger,
    deps: (overrides = {}) => ({
      partnerCenter: client,
      store,
      logger,
      settings: { timeBudgetMs: 60_000, customerConcurrency: 8 },
      leaseTtlMs: 5_000,
      ...overrides,
    }),
    close: () => sandbox.close(),
  };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The run an invocation finished; fails the test on any other outcome. */
export function finishedRun(outcome: InvocationOutcome): RunRecord {
  if (outcome.kind !== 'finished') throw new Error(`expected a finished run, got ${outcome.kind}`);
  return outcome.run;
}

export const events = (lines: string[], name: string) => lines.filter((l) => l.includes(`event=${name}`));

/** Everything the store serves as the latest customers list, read through the reader only. */
export async function storedCustomers(reader: UsageReader): Promise<CustomerMonthlyUsageRecord[]> {
  const items: CustomerMonthlyUsageRecord[] = [];
  let token: string | undefined;
  do {
    const result = await reader.listCustomers({ filter: {}, limit: 1000, continuationToken: token });
    if (!result) return items;
    items.push(...result.page.items);
    token = result.page.continuationToken;
  } while (token);
  return items;
}

/**
 * Compares one customer's latest view and its subscriptions' resource views with what Partner
 * Center (the sandbox) answers now, field for field. Returns the number of resources compared.
 */
export async function expectCustomerMatchesPartnerCenter(
  reader: UsageReader,
  client: SnapshotPartnerCenter,
  customerId: string,
): Promise<number> {
  const view = await reader.getCustomer(customerId);
  if (view.status !== 'found') throw new Error(`customer ${customerId} is ${view.status}`);
  expect(view.value.summary).toEqual(await client.getCustomerUsageSummary(customerId));
  const subscriptions = await collect(client.listSubscriptionUsageRecords(customerId));
  expect(view.value.subscriptions).toEqual(subscriptions);
  let resources = 0;
  for (const subscription of subscriptions) {
    const stored = await reader.getSubscriptionResources(customerId, subscription.subscriptionId);
    if (stored.status !== 'found')
      throw new Error(`subscription ${subscription.subscriptionId} is ${stored.status}`);
    expect(stored.value.subscription).toEqual(subscription);
    expect(stored.value.hasResourceBreakdown).toBe(hasResourceBreakdown(subscription));
    const expected = hasResourceBreakdown(subscription)
      ? await collect(client.listResourceUsageRecords(customerId, subscription.subscriptionId))
      : [];
    expect(stored.value.resources).toEqual(expected);
    // The subscription's own summary, and an Azure plan's meters, resources and Azure subscriptions.
    const id = subscription.subscriptionId;
    const plan = !hasResourceBreakdown(subscription);
    const detail = {
      summary: await client.getSubscriptionUsageSummary(customerId, id),
      meters: plan ? await collect(client.listMeterUsageRecords(customerId, id)) : [],
      resources: plan ? await collect(client.listPlanResourceUsageRecords(customerId, id)) : [],
      azureSubscriptions: plan ? await collect(client.listAzureEntitlements(customerId, id)) : [],
    };
    expect(stored.value.detail).toEqual(detail);
    resources += expected.length + detail.resources.length;
  }
  return resources;
}

/**
 * Compares everything the store serves (customers list, partner summary, every customer's view,
 * every subscription's resources) with what Partner Center (the sandbox) answers, field for field.
 * Returns the number of resources compared.
 */
export async function expectStoreMatchesPartnerCenter(
  reader: UsageReader,
  client: SnapshotPartnerCenter,
): Promise<number> {
  const expectedCustomers = await collect(client.listCustomerUsageRecords());
  const byId = (a: { customerId: string }, b: { customerId: string }) =>
    a.customerId.localeCompare(b.customerId);
  expect([...(await storedCustomers(reader))].sort(byId)).toEqual([...expectedCustomers].sort(byId));
  expect((await reader.getPartnerSummary())?.summary).toEqual(await client.getPartnerUsageSummary());
  const counts = await mapConcurrently(expectedCustomers, 8, (customer) =>
    expectCustomerMatchesPartnerCenter(reader, client, customer.customerId),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

/** `fn` over `items`, at most `concurrency` at a time; results in input order. */
export async function mapConcurrently<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** What a portal reading the cache sees at one moment, as JSON text per read. */
export interface ReadCapture {
  list: string;
  page: { runId?: string; items: string };
  partner: string;
  /** Customer id → its view lookup. */
  views: Map<string, string>;
  /** "customer/subscription" → its resources lookup. */
  resources: Map<string, string>;
}

/**
 * One pass of reads as a portal makes them: the whole customers list, one list page, the partner
 * summary, and the views (and their subscriptions' resources) of the first `customers` listed.
 */
export async function captureReads(
  reader: UsageReader,
  options: { customers?: number } = {},
): Promise<ReadCapture> {
  const customers = await storedCustomers(reader);
  const views = new Map<string, string>();
  const resources = new Map<string, string>();
  for (const c of customers.slice(0, options.customers ?? 12)) {
    const view = await reader.getCustomer(c.customerId);
    views.set(c.customerId, JSON.stringify(view));
    if (view.status === 'found')
      for (const s of view.value.subscriptions)
        resources.set(
          `${c.customerId}/${s.subscriptionId}`,
          JSON.stringify(await reader.getSubscriptionResources(c.customerId, s.subscriptionId)),
        );
  }
  const page = await reader.listCustomers({ filter: {}, limit: 1000 });
  return {
    list: JSON.stringify(customers),
    page: { runId: page?.snapshot.runId, items: JSON.stringify(page?.page.items) },
    partner: JSON.stringify(await reader.getPartnerSummary()),
    views,
    resources,
  };
}

/**
 * Checks that every read of every poll is wholly the snapshot before or wholly the one after:
 * the list and the partner summary as a whole, a list page as the run it names, each view by itself.
 * `normalise` maps a read's JSON before comparing (e.g. to forget a redone customer's takenAt).
 */
export function expectWholeSnapshots(
  polls: readonly ReadCapture[],
  before: ReadCapture,
  after: ReadCapture,
  normalise: (json: string | undefined) => string | undefined = (json) => json,
): void {
  const oneOf = (seen: string | undefined, ...allowed: Array<string | undefined>) =>
    expect(allowed.map(normalise)).toContain(normalise(seen));
  for (const s of polls) {
    oneOf(s.list, before.list, after.list);
    oneOf(s.partner, before.partner, after.partner);
    // A list page is wholly the run its snapshot names.
    expect(s.page.items === before.page.items).toBe(s.page.runId === before.page.runId);
    expect(s.page.items === after.page.items).toBe(s.page.runId === after.page.runId);
    for (const [id, view] of s.views) oneOf(view, before.views.get(id), after.views.get(id));
    for (const [key, view] of s.resources) oneOf(view, before.resources.get(key), after.resources.get(key));
  }
}

/** A test double's per-subscription detail calls: the real client's, unchanged. */
export function detailCalls(
  client: SnapshotPartnerCenter,
): Omit<SnapshotPartnerCenter, keyof PartnerCenterClient> {
  return {
    getSubscriptionUsageSummary: (c, s, o) => client.getSubscriptionUsageSummary(c, s, o),
    listMeterUsageRecords: (c, s, o) => client.listMeterUsageRecords(c, s, o),
    listPlanResourceUsageRecords: (c, s, o) => client.listPlanResourceUsageRecords(c, s, o),
    listAzureEntitlements: (c, s, o) => client.listAzureEntitlements(c, s, o),
  };
}
