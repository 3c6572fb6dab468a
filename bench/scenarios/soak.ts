import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { atMost, percentile, type Figure, type Scenario } from '../harness';
import { startApiServer, type ServerStats } from '../support/apiServer';
import { httpLoad, type LoadResult } from '../support/load';
import { countingLogger, runSnapshot, snapshotApp, startStack } from '../support/snapshotStack';
import { snapshotTargets } from '../support/targets';

interface Params {
  customers: number;
  seed: number;
  connections: number;
  seconds: number;
  /** When each of the two runs may start, as a share of the load's duration (the second also waits for the first). */
  runStarts: [number, number];
  /** How long each run should take: its Partner Center pace is set from the first (unpaced) run's request count. */
  runSeconds: number;
  /** A request with no answer after this long counts as "no answer" (autocannon replaces its connection). */
  timeoutSeconds: number;
  /** RSS and timeline sampling period. */
  sampleMs: number;
}

const ROUTES = [
  'customers',
  'partnerSummary',
  'customerSummary',
  'subscriptions',
  'resources',
  'customerHistory',
  'subscriptionHistory',
] as const;
type Route = (typeof ROUTES)[number];

interface RunOutcome {
  runId: string;
  state: string;
  customersWritten: number;
  /** Seconds from the start of the load. */
  startedAt: number;
  endedAt: number;
}

/** Each run moves the sandbox two days on, so every figure changes from one run to the next. */
const MOMENTS = [0, 2, 4].map((days) => Date.parse('2025-03-10T12:00:00Z') + days * 86_400_000);

/**
 * The soak of issue 15: 200 connections over every read route for 10 minutes while two snapshot
 * runs come and go. Looks for what a 90 s run cannot show: memory that creeps, answers that
 * never come, a run that does not end.
 */
export const soak: Scenario<Params> = {
  name: 'soak',
  description:
    'read routes under 200 connections for 10 minutes across two snapshot runs: 5xx, memory, unanswered',
  full: {
    customers: 50,
    seed: 15,
    connections: 200,
    seconds: 600,
    runStarts: [0.1, 0.5],
    runSeconds: 150,
    timeoutSeconds: 10,
    sampleMs: 1_000,
  },
  smoke: {
    customers: 4,
    seed: 15,
    connections: 20,
    seconds: 3,
    runStarts: [0.1, 0.5],
    runSeconds: 0.5,
    timeoutSeconds: 10,
    sampleMs: 100,
  },
  async run(params, log) {
    const stack = await startStack({
      customers: params.customers,
      seed: params.seed,
      now: MOMENTS[0],
      freezeClock: true,
    });
    try {
      const logger = countingLogger();
      const appWith = (perMinute: number) =>
        snapshotApp(
          {
            ...stack.env,
            // A restarted process reads back the refresh token the previous run rotated to.
            PARTNER_CENTER_REFRESH_TOKEN: stack.sandbox.latestRefreshToken(),
            PARTNER_CENTER_REQUESTS_PER_MINUTE: String(perMinute),
            PARTNER_CENTER_MAX_CONCURRENCY: '8',
            SNAPSHOT_CUSTOMER_CONCURRENCY: '8',
          },
          logger,
        );
      stack.sandbox.counters.reset();
      const first = await runSnapshot(appWith(100_000), logger);
      const requestsPerRun = stack.sandbox.counters.snapshot().totalRequests;
      const perMinute = Math.min(100_000, Math.max(1, Math.round((requestsPerRun * 60) / params.runSeconds)));
      log(
        `  first snapshot ${first.run.runId}: ${first.run.counts.customersWritten} customers, ${requestsPerRun} Partner Center requests; the two runs under load go at ${perMinute}/min`,
      );

      const targets = snapshotTargets(stack.sandbox, params.customers);
      let i = 0;
      const next = (): { path: string; tag: Route } => {
        const n = i++;
        const route = ROUTES[n % ROUTES.length];
        const t = targets[Math.floor(n / ROUTES.length) % targets.length];
        const s = t.subscriptionIds[Math.floor(n / ROUTES.length) % t.subscriptionIds.length];
        const customer = `/api/v1/customers/${t.customerId}`;
        const paths: Record<Route, string> = {
          customers: '/api/v1/customers',
          partnerSummary: '/api/v1/partner/usage-summary',
          customerSummary: `${customer}/usage-summary`,
          subscriptions: `${customer}/subscriptions`,
          resources: `${customer}/subscriptions/${s}/resources`,
          customerHistory: `${customer}/history`,
          subscriptionHistory: `${customer}/subscriptions/${s}/history`,
        };
        return { path: paths[route], tag: route };
      };

      const api = await startApiServer(stack.azurite.connectionString, 'bench');
      try {
        const timeline = new Timeline(params.sampleMs);
        const byRoute = new Map<string, number>();
        const runIdsSeen = new Map<string, number>();
        const benchLoop = monitorEventLoopDelay({ resolution: 20 });
        const loadMs = params.seconds * 1000;
        const started = performance.now();
        const sinceStart = () => (performance.now() - started) / 1000;
        const sample = () => timeline.rss(sinceStart(), api.rssMiB());
        sample();
        const sampler = setInterval(sample, params.sampleMs);
        benchLoop.enable();

        const timedRun = async (moment: number): Promise<RunOutcome> => {
          stack.sandbox.clock.setNow(moment);
          const startedAt = sinceStart();
          const { run } = await runSnapshot(appWith(perMinute), logger);
          return {
            runId: run.runId,
            state: run.state,
            customersWritten: run.counts.customersWritten,
            startedAt,
            endedAt: sinceStart(),
          };
        };
        const runs = (async () => {
          await sleep(params.runStarts[0] * loadMs);
          const a = await timedRun(MOMENTS[1]);
          await sleep(Math.max(0, params.runStarts[1] * loadMs - sinceStart() * 1000));
          const b = await timedRun(MOMENTS[2]);
          return [a, b];
        })();

        let settled: [PromiseSettledResult<LoadResult>, PromiseSettledResult<RunOutcome[]>];
        try {
          // Settled, not raced: the load stops by itself after its duration even if a run fails.
          settled = await Promise.allSettled([
            httpLoad({
              url: api.url,
              connections: params.connections,
              seconds: params.seconds,
              timeoutSeconds: params.timeoutSeconds,
              headers: { 'x-functions-key': api.functionKey, accept: 'application/json' },
              next,
              onBody: (status, body, tag) => {
                timeline.answer(sinceStart());
                byRoute.set(`${tag as Route} ${status}`, (byRoute.get(`${tag as Route} ${status}`) ?? 0) + 1);
                if (tag === 'customerSummary' && status === 200) {
                  const runId = /"runId":"([^"]+)"/.exec(body)?.[1] ?? 'none';
                  runIdsSeen.set(runId, (runIdsSeen.get(runId) ?? 0) + 1);
                }
              },
              onError: (kind) => timeline.error(sinceStart(), kind === 'request timed out'),
            }).finally(sample),
            runs,
          ]);
        } finally {
          clearInterval(sampler);
          benchLoop.disable();
        }
        for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
        const load = (settled[0] as PromiseFulfilledResult<LoadResult>).value;
        const [a, b] = (settled[1] as PromiseFulfilledResult<RunOutcome[]>).value;
        const server = await api.stats();

        const memory = timeline.memory(params.seconds);
        const fiveXx = sumStatuses(load.statusCounts, (status) => status.startsWith('5'));
        const answers = sumStatuses(load.statusCounts, () => true);
        const unanswered = load.timeouts;
        const serverSide = serverFigures(server, params.timeoutSeconds);
        const runsFinished = [a, b].filter((r) => r.state === 'succeeded' || r.state === 'partial').length;
        const runsInLoad = [a, b].filter((r) => r.endedAt <= params.seconds).length;
        log(
          `  ${answers} answers ${JSON.stringify(load.statusCounts)}, ${fiveXx} 5xx, ${unanswered} unanswered in ${params.timeoutSeconds} s; p50/p99 ${load.p50.toFixed(0)}/${load.p99.toFixed(0)} ms; RSS ${memory.start.toFixed(0)} → ${memory.middle.toFixed(0)} → ${memory.end.toFixed(0)} MiB`,
        );
        log(
          `  runs: ${[a, b].map((r) => `${r.runId} ${r.state} ${r.customersWritten} customers, ${r.startedAt.toFixed(0)}–${r.endedAt.toFixed(0)} s`).join('; ')}`,
        );
        log(
          `  server: ${server.received} received, ${server.answered} answered, ${server.abandoned} abandoned, max ${serverSide.max} ms, ${serverSide.overTimeout} over ${params.timeoutSeconds} s; event loop max: server ${server.eventLoopDelayMs.max.toFixed(0)} ms, bench ${(benchLoop.max / 1e6).toFixed(0)} ms`,
        );
        const figures: Figure[] = [
          { name: 'answers', value: answers, unit: 'requests' },
          { name: '5xx answers', value: fiveXx, unit: 'requests', target: '= 0', met: fiveXx === 0 },
          { name: 'other non-2xx answers', value: load.non2xx - fiveXx, unit: 'requests' },
          {
            name: `requests with no answer within ${params.timeoutSeconds} s`,
            value: unanswered,
            unit: 'requests',
          },
          {
            name: 'of the requests sent, unanswered',
            value: (100 * unanswered) / Math.max(1, answers + unanswered),
            unit: '%',
          },
          { name: 'other socket errors', value: load.errors - load.timeouts, unit: 'requests' },
          { name: 'throughput', value: load.perSecond, unit: 'req/s' },
          { name: 'p50 latency', value: load.p50, unit: 'ms' },
          { name: 'p99 latency', value: load.p99, unit: 'ms' },
          { name: 'server RSS at start', value: memory.start, unit: 'MiB' },
          { name: 'server RSS at middle', value: memory.middle, unit: 'MiB' },
          { name: 'server RSS at end', value: memory.end, unit: 'MiB' },
          {
            name: 'server RSS end ÷ middle',
            value: memory.end / memory.middle,
            unit: 'ratio',
            ...atMost(memory.end / memory.middle, 1.2),
          },
          { name: 'server RSS peak', value: memory.peak, unit: 'MiB' },
          {
            name: 'snapshot runs under load that finished (succeeded or partial)',
            value: runsFinished,
            unit: 'runs',
            target: '= 2',
            met: runsFinished === 2,
          },
          { name: 'snapshot runs that ended within the load', value: runsInLoad, unit: 'runs' },
          { name: 'run 1 wall time', value: a.endedAt - a.startedAt, unit: 's' },
          { name: 'run 2 wall time', value: b.endedAt - b.startedAt, unit: 's' },
          { name: 'requests the server received', value: server.received, unit: 'requests' },
          { name: 'requests the server answered', value: server.answered, unit: 'requests' },
          {
            name: 'requests abandoned by the client before the server answered',
            value: server.abandoned,
            unit: 'requests',
          },
          { name: 'server-side p99 (request event to last byte)', value: serverSide.p99, unit: 'ms' },
          { name: 'server-side max', value: serverSide.max, unit: 'ms' },
          {
            name: `server-side answers over ${params.timeoutSeconds} s`,
            value: serverSide.overTimeout,
            unit: 'requests',
          },
          { name: 'server event-loop delay max', value: server.eventLoopDelayMs.max, unit: 'ms' },
          { name: 'bench process event-loop delay max', value: benchLoop.max / 1e6, unit: 'ms' },
          { name: 'bench process event-loop delay p99', value: benchLoop.percentile(99) / 1e6, unit: 'ms' },
        ];
        return {
          scenario: 'soak',
          description: this.description,
          parameters: params,
          figures,
          notes: [
            `Arrangement: the API is the built app (dist/) behind the local host in its own process; autocannon (${params.connections} connections, ${params.seconds} s, one request in flight per connection, ${params.timeoutSeconds} s timeout) and the two snapshot runs (in-process, ${perMinute} Partner Center requests/min, so each spans about ${params.runSeconds} s) run in the bench process with the sandbox; Azurite is a third process. Before the load, one unpaced run fills the store (${requestsPerRun} Partner Center requests). Requests cycle ${ROUTES.join(' → ')} over the ${targets.length} customers with subscriptions.`,
            `Runs under load: ${[a, b].map((r) => `${r.runId} ${r.state}, ${r.customersWritten} customers written, ${r.startedAt.toFixed(0)}–${r.endedAt.toFixed(0)} s into the load`).join('; ')}.`,
            `Customer summaries by the run they name: ${JSON.stringify(Object.fromEntries(runIdsSeen))} (first run ${first.run.runId}).`,
            `Answers by status: ${JSON.stringify(load.statusCounts)}; by route and status: ${JSON.stringify(Object.fromEntries([...byRoute].sort()))}; errors by kind: ${JSON.stringify(load.errorKinds)}.`,
            `Memory: the API process's VmRSS every ${params.sampleMs} ms; start = before the load, middle = the sample nearest half-time, end = the last sample. Stable = end ≤ 1.2 × middle.`,
            `Server side (counted in the API process through node:diagnostics_channel): ${server.received} requests received, ${server.answered} answered, ${server.abandoned} whose connection closed before the answer was finished, at most ${server.maxInFlight} in flight; p50/p99/max ${serverSide.p50}/${serverSide.p99}/${serverSide.max} ms from the request event to the last byte written.`,
            `Timeline, per ${timeline.bucketSeconds} s from the start of the load (answers / unanswered / RSS MiB): ${timeline.describe()}.`,
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

function sumStatuses(counts: Record<string, number>, take: (status: string) => boolean): number {
  return Object.entries(counts)
    .filter(([status]) => take(status))
    .reduce((sum, [, n]) => sum + n, 0);
}

function serverFigures(server: ServerStats, timeoutSeconds: number) {
  const sorted = Object.entries(server.durations)
    .flatMap(([ms, n]) => Array<number>(n).fill(Number(ms)))
    .sort((x, y) => x - y);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : 0,
    overTimeout: sorted.filter((ms) => ms > timeoutSeconds * 1000).length,
  };
}

/** RSS samples, and answers and unanswered requests counted in buckets of time, for the notes. */
class Timeline {
  private readonly samples: Array<{ at: number; mib: number }> = [];
  private readonly buckets: Array<{ answers: number; unanswered: number }> = [];
  readonly bucketSeconds: number;

  constructor(sampleMs: number) {
    // About 60 buckets over a 10-minute run; one per sample period in a short one.
    this.bucketSeconds = Math.max(sampleMs / 1000, 10 * Math.round(sampleMs / 1000));
  }

  rss(at: number, mib: number): void {
    this.samples.push({ at, mib });
  }

  answer(at: number): void {
    this.bucket(at).answers++;
  }

  error(at: number, timedOut: boolean): void {
    if (timedOut) this.bucket(at).unanswered++;
  }

  /** Start, middle (nearest half of `seconds`), end and peak RSS of the samples taken during the load. */
  memory(seconds: number) {
    const during = this.samples.filter((s) => s.at <= seconds + 1);
    const middle = during.reduce((best, s) =>
      Math.abs(s.at - seconds / 2) < Math.abs(best.at - seconds / 2) ? s : best,
    );
    return {
      start: during[0].mib,
      middle: middle.mib,
      end: during[during.length - 1].mib,
      peak: Math.max(...during.map((s) => s.mib)),
    };
  }

  describe(): string {
    return this.buckets
      .map((b, index) => {
        const end = (index + 1) * this.bucketSeconds;
        const rss = this.samples.filter((s) => s.at <= end).at(-1)?.mib ?? NaN;
        return `${b?.answers ?? 0}/${b?.unanswered ?? 0}/${rss.toFixed(0)}`;
      })
      .join(' ');
  }

  private bucket(at: number) {
    const index = Math.floor(at / this.bucketSeconds);
    for (let k = this.buckets.length; k <= index; k++) this.buckets.push({ answers: 0, unanswered: 0 });
    return this.buckets[index];
  }
}
