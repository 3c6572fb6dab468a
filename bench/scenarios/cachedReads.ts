import { TableClient } from '@azure/data-tables';
import { atMost, ratio, type Figure, type Scenario } from '../harness';
import { startApiServer } from '../support/apiServer';
import { builtApp } from '../support/builtApp';
import { httpLoad, mergeLoads, readLoop, type LoadResult } from '../support/load';
import { countingLogger, runSnapshot, snapshotApp, startStack } from '../support/snapshotStack';
import { snapshotTargets, type SnapshotTarget } from '../support/targets';

interface Params {
  customers: number;
  seed: number;
  connections: number;
  /** Measured time per route and side, API and raw alike. */
  seconds: number;
  /**
   * The measured time is cut into this many rounds, API and raw alternating (API first in odd
   * rounds, raw first in even ones), so that a burst of noise on this shared machine lands on
   * both sides rather than on whichever ran at that moment. Each side's latencies are pooled;
   * each round's own p99 ratio goes in the notes, to show how much the machine's noise moves it.
   */
  rounds: number;
  /** One unmeasured run of each side first, so neither pays for JIT and connection setup. */
  warmupSeconds: number;
}

interface Route {
  name: 'summary' | 'subscriptions' | 'resources';
  path: (t: SnapshotTarget, s: string) => string;
  raw: (t: SnapshotTarget, s: string) => Promise<unknown>;
  /** Whether the route is per subscription (the load then walks subscriptions, not customers). */
  perSubscription: boolean;
}

/**
 * Cached reads: the three customer read routes served by the built app (own process) under
 * autocannon, against a bare TableClient point read of the entity each route reads, at the same
 * concurrency on the same Azurite, measured back to back, route by route.
 */
export const cachedReads: Scenario<Params> = {
  name: 'cachedReads',
  description: 'read routes through the local host vs a bare TableClient point read, same concurrency',
  full: { customers: 200, seed: 12, connections: 20, seconds: 21, rounds: 7, warmupSeconds: 2 },
  smoke: { customers: 10, seed: 12, connections: 20, seconds: 1, rounds: 2, warmupSeconds: 0 },
  async run(params, log) {
    const stack = await startStack({
      customers: params.customers,
      seed: params.seed,
      now: '2025-03-15T12:00:00Z',
      freezeClock: true,
    });
    try {
      const logger = countingLogger();
      const app = snapshotApp(
        {
          ...stack.env,
          PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
          PARTNER_CENTER_MAX_CONCURRENCY: '8',
          SNAPSHOT_CUSTOMER_CONCURRENCY: '8',
        },
        logger,
      );
      const populated = await runSnapshot(app, logger);
      log(
        `  populated: ${populated.run.counts.customersWritten} customers in ${(populated.ms / 1000).toFixed(1)} s`,
      );
      const targets = snapshotTargets(stack.sandbox, params.customers);
      const subscriptionPairs = targets.flatMap((t) => t.subscriptionIds.map((s) => [t, s] as const));

      const { keys } = builtApp();
      const options = { allowInsecureConnection: true };
      const customers = TableClient.fromConnectionString(
        stack.azurite.connectionString,
        'benchCustomers',
        options,
      );
      const routes: Route[] = [
        {
          name: 'summary',
          path: (t) => `/api/v1/customers/${t.customerId}/usage-summary`,
          raw: (t) => customers.getEntity(keys.customerPartition(t.customerId), keys.VIEW_ROW),
          perSubscription: false,
        },
        {
          name: 'subscriptions',
          path: (t) => `/api/v1/customers/${t.customerId}/subscriptions`,
          raw: (t) => customers.getEntity(keys.customerPartition(t.customerId), keys.VIEW_ROW),
          perSubscription: false,
        },
        {
          name: 'resources',
          path: (t, s) => `/api/v1/customers/${t.customerId}/subscriptions/${s}/resources`,
          // The same two requests the store makes: the customer's header names the slot of its parts.
          raw: async (t, s) => {
            const pk = keys.customerPartition(t.customerId);
            const header = await customers.getEntity(pk, keys.VIEW_ROW, {
              queryOptions: { select: ['slot'] },
            });
            return customers.getEntity(pk, keys.subscriptionPartRow(s, header.slot === 'b' ? 'b' : 'a'));
          },
          perSubscription: true,
        },
      ];

      const api = await startApiServer(stack.azurite.connectionString, 'bench');
      try {
        const headers = { 'x-functions-key': api.functionKey, accept: 'application/json' };
        const walk = (route: Route) => {
          let i = 0;
          const next = () => {
            if (route.perSubscription) {
              const [t, s] = subscriptionPairs[i++ % subscriptionPairs.length];
              return { t, s };
            }
            return { t: targets[i++ % targets.length], s: '' };
          };
          return {
            next: () => {
              const { t, s } = next();
              return { path: route.path(t, s) };
            },
            raw: () => {
              const { t, s } = next();
              return route.raw(t, s);
            },
          };
        };
        const apiRun = (route: Route, seconds: number) =>
          httpLoad({
            url: api.url,
            connections: params.connections,
            seconds,
            headers,
            next: walk(route).next,
          });
        const rawRun = (route: Route, seconds: number) => {
          const rawWalk = walk(route);
          return readLoop({ concurrency: params.connections, seconds, read: () => rawWalk.raw() });
        };
        const sides = async (route: Route, seconds: number, rounds: number) => {
          const apiRuns: LoadResult[] = [];
          const rawRuns: LoadResult[] = [];
          for (let round = 0; round < rounds; round++) {
            if (round % 2 === 0) {
              apiRuns.push(await apiRun(route, seconds / rounds));
              rawRuns.push(await rawRun(route, seconds / rounds));
            } else {
              rawRuns.push(await rawRun(route, seconds / rounds));
              apiRuns.push(await apiRun(route, seconds / rounds));
            }
          }
          // Each round's API window and raw window are adjacent in time: a paired comparison.
          const pairedP99 = apiRuns.map((a, r) => ratio(a.p99, rawRuns[r].p99));
          return { apiSide: mergeLoads(apiRuns), rawSide: mergeLoads(rawRuns), pairedP99 };
        };

        if (params.warmupSeconds > 0) for (const route of routes) await sides(route, params.warmupSeconds, 1);
        const figures: Figure[] = [];
        const lines: string[] = [];
        for (const route of routes) {
          const { apiSide, rawSide, pairedP99 } = await sides(route, params.seconds, params.rounds);
          log(`  ${route.name}: api ${describe(apiSide)} | raw ${describe(rawSide)}`);
          log(`    p99 ratio per round: ${pairedP99.map((r) => r.toFixed(2)).join(' ')}`);
          lines.push(`${route.name} statuses: ${JSON.stringify(apiSide.statusCounts)}`);
          lines.push(`${route.name} p99 ratio per round: ${pairedP99.map((r) => r.toFixed(3)).join(', ')}`);
          figures.push(...routeFigures(route.name, apiSide, rawSide, pairedP99));
        }
        return {
          scenario: 'cachedReads',
          description: this.description,
          parameters: params,
          figures,
          notes: [
            `Data: one real snapshot of ${populated.run.counts.customersWritten} sandbox customers (${subscriptionPairs.length} subscriptions); the load walks the ${targets.length} customers with at least one subscription (and their subscriptions for the resources route) round robin.`,
            'Arrangement: the API is the built app (dist/) behind the local host in its own process; autocannon and the raw TableClient loop run in the bench process, never at the same time, per route, after one unmeasured warm-up of each.',
            `Rounds: each route's ${params.seconds} s per side are cut into ${params.rounds} rounds of ${params.seconds / params.rounds} s, API and raw alternating (API first, then raw first, …), and each side's latencies are pooled, so noise from other tenants of this shared machine falls on both sides alike. Azurite is a third process. Two cores are shared by all three.`,
            `API: autocannon, ${params.connections} connections, x-functions-key; latency = autocannon's per-response time (ms, float). Errors = connection errors + timeouts + non-2xx answers.`,
            `Raw: ${params.connections} concurrent loops of TableClient.getEntity on the header row (RowKey "view") of the partition the route reads (Customers c_{customerId} for summary and subscriptions, Resources s_{customerId}_{subscriptionId} for resources), timed around each call. The store itself reads a view with one single-partition range query (RowKey view…view~), which also returns any part rows.`,
            ...lines,
          ],
        };
      } finally {
        await api.close();
      }
    } finally {
      await stack.close();
    }
  },
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function describe(r: LoadResult): string {
  return `${r.perSecond.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, errors ${r.errors + r.non2xx}`;
}

function routeFigures(
  name: string,
  apiSide: LoadResult,
  rawSide: LoadResult,
  pairedP99: readonly number[],
): Figure[] {
  const pooled = ratio(apiSide.p99, rawSide.p99);
  const errors = apiSide.errors + apiSide.non2xx;
  return [
    { name: `${name}: api throughput`, value: apiSide.perSecond, unit: 'req/s' },
    { name: `${name}: raw throughput`, value: rawSide.perSecond, unit: 'req/s' },
    {
      name: `${name}: api ÷ raw throughput`,
      value: ratio(apiSide.perSecond, rawSide.perSecond),
      unit: 'ratio',
    },
    { name: `${name}: api p50`, value: apiSide.p50, unit: 'ms' },
    { name: `${name}: raw p50`, value: rawSide.p50, unit: 'ms' },
    { name: `${name}: api ÷ raw p50`, value: ratio(apiSide.p50, rawSide.p50), unit: 'ratio' },
    { name: `${name}: api p99`, value: apiSide.p99, unit: 'ms' },
    { name: `${name}: raw p99`, value: rawSide.p99, unit: 'ms' },
    { name: `${name}: api ÷ raw p99`, value: pooled, unit: 'ratio', ...atMost(pooled, 1.5) },
    { name: `${name}: api ÷ raw p99, median of rounds`, value: median(pairedP99), unit: 'ratio' },
    { name: `${name}: api errors`, value: errors, unit: 'requests', target: '= 0', met: errors === 0 },
  ];
}
