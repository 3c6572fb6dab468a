import type { Sandbox } from '../../dev/sandbox';
import type { UsageReader } from '../../src/domain/usageReader';
import { atMost, type Scenario } from '../harness';
import {
  countingLogger,
  runSnapshot,
  snapshotApp,
  startStack,
  type SnapshotApp,
} from '../support/snapshotStack';
import { drainBurst, pacing, type PacingParams } from './pacing';

interface Params extends PacingParams {
  /** Share of customers whose usage moves in the hour between the two runs (sandbox movingShare). */
  movingShare: number;
  /** Reads compared at once, per store. */
  readConcurrency: number;
}

const HOUR = 3600_000;

/**
 * Incremental: a full snapshot, then the sandbox clock moves one hour with only a share of the
 * customers' usage moving, then an incremental snapshot; both against the rate-limited sandbox of
 * `pacing`. Then a full run of the same sandbox state into tables of its own (unthrottled: only
 * its data matters), and every read the routes make compared between the two stores.
 */
export const incremental: Scenario<Params> = {
  name: 'incremental',
  description:
    'incremental snapshot after 10 % of customers moved vs a full one: Partner Center requests and wall time; every read compared with a full run',
  // The tenant shape, rate limit, latency and concurrency of `pacing`, at 1,000 customers.
  full: { ...pacing.full, customers: 1000, seed: 16, movingShare: 0.1, readConcurrency: 8 },
  smoke: { ...pacing.smoke, seed: 16, movingShare: 0.1, readConcurrency: 4 },
  async run(params, log) {
    const perMinute = params.requestsPerSecond * 60;
    const stack = await startStack({
      customers: params.customers,
      seed: params.seed,
      subscriptionsPerCustomer: params.subscriptionsPerCustomer,
      limits: { partnerPerMinute: perMinute },
      // Running (the throttle's buckets refill on this clock), from just after an hour's start: the
      // next hour, when usage moves, is ours to advance to.
      now: '2025-03-15T12:00:00Z',
      movingShare: params.movingShare,
    });
    try {
      const { sandbox } = stack;
      const logger = countingLogger();
      // Each app starts from the refresh token the sandbox issued last (the one before rotated out).
      const appFor = (env: Record<string, string>) =>
        snapshotApp(
          { ...stack.env, PARTNER_CENTER_REFRESH_TOKEN: sandbox.latestRefreshToken(), ...env },
          logger,
        );
      const paced = (mode: 'full' | 'incremental') =>
        appFor({
          SNAPSHOT_MODE: mode,
          PARTNER_CENTER_REQUESTS_PER_MINUTE: String(perMinute),
          PARTNER_CENTER_MAX_CONCURRENCY: String(params.maxConcurrency),
          SNAPSHOT_CUSTOMER_CONCURRENCY: String(params.customerConcurrency),
        });
      const measured = async (app: SnapshotApp, label: string) => {
        if (params.drainBurst) await drainBurst(sandbox, perMinute * 2);
        sandbox.faults.set({ latencyMs: params.latencyMs, latencyJitterMs: params.latencyJitterMs });
        sandbox.counters.reset();
        const { run, ms } = await runSnapshot(app, logger);
        const requests = usageRequests(sandbox);
        sandbox.faults.clear();
        log(
          `  ${label}: ${run.state}, ${requests} usage requests in ${(ms / 1000).toFixed(1)} s; customers ${run.counts.customersFetched ?? '?'} fetched, ${run.counts.customersCarriedOver ?? 0} carried over`,
        );
        return { run, ms, requests };
      };

      const full = await measured(paced('full'), 'full run');
      const before = sandbox.clock.now();
      sandbox.clock.advance(HOUR);
      const moved = Array.from({ length: params.customers }, (_, i) => i).filter(
        (i) => sandbox.customerUsage(i, before).totalCost !== sandbox.customerUsage(i).totalCost,
      ).length;
      log(`  the clock moved one hour: ${moved} of ${params.customers} customers' usage moved`);
      const app = paced('incremental');
      const next = await measured(app, 'incremental run');

      // The reference: a full run of the same state, unthrottled, into tables of its own.
      sandbox.limits.set({ partnerPerMinute: 0 });
      const reference = appFor({ TABLE_NAME_PREFIX: 'benchref', SNAPSHOT_MODE: 'full' });
      await runSnapshot(reference, logger);
      const reads = await compareReads(app.usageStore, reference.usageStore, params.readConcurrency);
      log(`  reads compared with a full run: ${reads.compared}, differing: ${reads.differing}`);

      const requestRatio = next.requests / full.requests;
      const wallRatio = next.ms / full.ms;
      return {
        scenario: 'incremental',
        description: this.description,
        parameters: params,
        figures: [
          { name: 'full run: usage requests', value: full.requests, unit: 'requests' },
          { name: 'full run: wall time', value: full.ms / 1000, unit: 's' },
          { name: 'incremental run: usage requests', value: next.requests, unit: 'requests' },
          { name: 'incremental run: wall time', value: next.ms / 1000, unit: 's' },
          {
            name: 'requests ratio (incremental ÷ full)',
            value: requestRatio,
            unit: 'ratio',
            ...atMost(requestRatio, 0.15),
          },
          {
            name: 'wall ratio (incremental ÷ full)',
            value: wallRatio,
            unit: 'ratio',
            ...atMost(wallRatio, 0.2),
          },
          { name: 'customers whose usage moved', value: moved, unit: 'customers' },
          { name: 'customers fetched', value: next.run.counts.customersFetched ?? 0, unit: 'customers' },
          {
            name: 'customers carried over',
            value: next.run.counts.customersCarriedOver ?? 0,
            unit: 'customers',
          },
          { name: 'reads compared with a full run', value: reads.compared, unit: 'reads' },
          { name: 'reads differing', value: reads.differing, unit: 'reads', ...atMost(reads.differing, 0) },
        ],
        notes: [
          `Tenant: ${params.customers} sandbox customers (seed ${params.seed}, average ${params.subscriptionsPerCustomer} subscriptions); sandbox clock running from 2025-03-15T12:00Z, moved on one hour between the runs with movingShare ${params.movingShare} (about that share of customers' usage moves per hour).`,
          `Both measured runs as in \`pacing\`: R = ${params.requestsPerSecond}/s (sandbox limit = PARTNER_CENTER_REQUESTS_PER_MINUTE = ${perMinute}), latency ${params.latencyMs} + [0, ${params.latencyJitterMs}] ms, ${params.drainBurst ? 'burst allowance drained before each run' : 'burst not drained (smoke)'}; usage requests = every /v1 request the sandbox counted, 429s included.`,
          'Full run: SNAPSHOT_MODE=full; incremental run: SNAPSHOT_MODE=incremental on the same tables (carries over customers whose monthly record did not move). The run record counts fetched and carried-over customers.',
          'Reads compared: a full run of the same sandbox state (unthrottled) into other tables, then, through the UsageReader each route uses, the customers list, the partner summary, and per customer its view and latest history point, per subscription its resources and latest history point; JSON compared with runId, takenAt and history continuation tokens left out (they name the run). A carried-over view keeps the takenAt of the run that read it, so `stale` can differ where that is 12-24 h old.',
          `Warnings logged: ${logger.counts.warn}.`,
        ],
      };
    } finally {
      await stack.close();
    }
  },
};

function usageRequests(sandbox: Sandbox): number {
  let total = 0;
  for (const [route, byStatus] of Object.entries(sandbox.counters.snapshot().requests))
    if (route.startsWith('GET /v1/')) for (const count of Object.values(byStatus)) total += count;
  return total;
}

const VARIES = new Set(['runId', 'takenAt', 'continuationToken']);
const normalised = (value: unknown) =>
  JSON.stringify(value, (key, v: unknown) => (VARIES.has(key) ? undefined : v));

/** Every read the routes make, from both stores, compared as normalised JSON. */
async function compareReads(
  actual: UsageReader,
  expected: UsageReader,
  concurrency: number,
): Promise<{ compared: number; differing: number }> {
  let compared = 0;
  let differing = 0;
  const compare = async (read: (reader: UsageReader) => Promise<unknown>) => {
    const [a, b] = await Promise.all([read(actual), read(expected)]);
    compared++;
    if (normalised(a) !== normalised(b)) differing++;
    return b;
  };
  const customers: string[] = [];
  let token: string | undefined;
  do {
    const page = await expected.listCustomers({ filter: {}, limit: 1000, continuationToken: token });
    customers.push(...(page?.page.items ?? []).map((c) => c.customerId));
    token = page?.page.continuationToken;
  } while (token);
  const sorted = async (reader: UsageReader) => {
    const items: unknown[] = [];
    let next: string | undefined;
    do {
      const page = await reader.listCustomers({ filter: {}, limit: 1000, continuationToken: next });
      items.push(...(page?.page.items ?? []));
      next = page?.page.continuationToken;
    } while (next);
    return items.map((i) => JSON.stringify(i)).sort();
  };
  await compare(sorted);
  await compare((r) => r.getPartnerSummary());
  const latest = { limit: 1 };
  let next = 0;
  const worker = async () => {
    while (next < customers.length) {
      const id = customers[next++];
      const view = (await compare((r) => r.getCustomer(id))) as Awaited<
        ReturnType<UsageReader['getCustomer']>
      >;
      await compare((r) => r.customerHistory(id, latest));
      if (view.status !== 'found') continue;
      for (const { subscriptionId } of view.value.subscriptions) {
        await compare((r) => r.getSubscriptionResources(id, subscriptionId));
        await compare((r) => r.subscriptionHistory(id, subscriptionId, latest));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { compared, differing };
}
