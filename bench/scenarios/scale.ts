import path from 'node:path';
import { atMost, procCpuSeconds, procMemoryMiB, repoRoot, type Scenario } from '../harness';
import { deployedNodeOptions, sandboxAppEnv } from '../support/appEnv';
import { startBenchChild } from '../support/benchChild';
import { startStack } from '../support/snapshotStack';
import { startTableCountingProxy, type TableTraffic } from '../support/tableCountingProxy';

interface Params {
  customers: number;
  seed: number;
  /** The child is killed after this long. */
  timeoutMinutes: number;
}

interface Done {
  done: true;
  ms: number;
  outcome: { kind: string; run?: { runId: string; state: string; counts: Record<string, number> } };
  maxRssMiB: number;
  rssMiB: number;
  heapUsedMiB: number;
  storeMetrics: { roundTrips: number; transactions: number; entitiesWritten: number };
  logged: { warn: number; error: number; first: string[] };
}

const PREFIX = 'scale';
const DATA_TABLES = ['Customers', 'CustomerLists'].map((t) => PREFIX + t);
const RUNS_TABLE = `${PREFIX}Runs`;

/**
 * Scale: one snapshot of many customers against an unthrottled sandbox, run by the app's own
 * composition root in a child process (peak RSS is the snapshot's), with every Table Storage
 * request counted on the wire by a proxy in front of Azurite.
 */
export const scale: Scenario<Params> = {
  name: 'scale',
  description: 'snapshot of many customers: wall time, peak RSS, Table round trips against ideal batches',
  full: { customers: 10_000, seed: 10, timeoutMinutes: 60 },
  smoke: { customers: 30, seed: 10, timeoutMinutes: 2 },
  async run(params, log) {
    const stack = await startStack({ customers: params.customers, seed: params.seed });
    const proxy = await startTableCountingProxy(stack.azurite.connectionString);
    const env = sandboxAppEnv(proxy.connectionString, stack.sandbox, {
      TABLE_NAME_PREFIX: PREFIX,
      // Unthrottled: the client's own pace at its maximum; concurrency stays at the app's defaults.
      PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
      // As deployed: the snapshot runs in the Functions worker, which Bicep starts with these.
      NODE_OPTIONS: deployedNodeOptions(),
    });
    const child = startBenchChild(path.join(repoRoot(), 'bench/scenarios/scaleChild.js'), [repoRoot()], env);
    try {
      const ready = await child.next<{ ready?: boolean; rssMiB: number }>((m) => m.ready === true, 60_000);
      proxy.reset();
      stack.sandbox.counters.reset();
      const cpuAtStart = { azurite: procCpuSeconds(stack.azurite.pid), child: procCpuSeconds(child.pid) };
      child.command('go');
      let lastLog = Date.now();
      const progress = setInterval(() => {
        if (Date.now() - lastLog < 15_000) return;
        lastLog = Date.now();
        log(
          `  … ${stack.sandbox.counters.snapshot().totalRequests} Partner Center requests, ${proxy.traffic().roundTrips} Table round trips, child RSS ${procMemoryMiB(child.pid, 'VmRSS').toFixed(0)} MiB`,
        );
      }, 1_000);
      let done: Done;
      try {
        done = await child.next<Done>((m) => m.done === true, params.timeoutMinutes * 60_000);
      } finally {
        clearInterval(progress);
      }
      const hwm = procMemoryMiB(child.pid, 'VmHWM');
      const cpu = {
        azurite: procCpuSeconds(stack.azurite.pid) - cpuAtStart.azurite,
        child: procCpuSeconds(child.pid) - cpuAtStart.child,
      };
      child.command('bye');
      const run = done.outcome.run;
      if (done.outcome.kind !== 'finished' || !run || run.state === 'failed')
        throw new Error(`snapshot did not finish: ${JSON.stringify(done.outcome)}`);

      const traffic = proxy.traffic();
      const ideal = idealRoundTrips(traffic);
      const peakRss = Number.isFinite(hwm) ? Math.max(hwm, done.maxRssMiB) : done.maxRssMiB;
      const ratio = traffic.roundTrips / ideal.total;
      const dataReads = DATA_TABLES.reduce((sum, t) => sum + (traffic.byTable[t]?.reads ?? 0), 0);
      const writeRatio = (traffic.roundTrips - dataReads) / ideal.total;
      const pcRequests = stack.sandbox.counters.snapshot().totalRequests;
      log(
        `  ${run.state}: ${run.counts.customersWritten} customers in ${(done.ms / 1000).toFixed(1)} s; peak RSS ${peakRss.toFixed(0)} MiB; ${traffic.roundTrips} Table round trips, ideal ${ideal.total}`,
      );
      return {
        scenario: 'scale',
        description: this.description,
        parameters: params,
        figures: [
          { name: 'snapshot wall time', value: done.ms / 1000, unit: 's' },
          {
            name: 'customers per second',
            value: run.counts.customersWritten / (done.ms / 1000),
            unit: '1/s',
          },
          { name: 'peak RSS (snapshot process)', value: peakRss, unit: 'MiB', ...atMost(peakRss, 256) },
          { name: 'RSS before the run', value: ready.rssMiB, unit: 'MiB' },
          { name: 'Table round trips', value: traffic.roundTrips, unit: 'requests' },
          { name: 'ideal round trips', value: ideal.total, unit: 'requests' },
          { name: 'round trips ÷ ideal', value: ratio, unit: 'ratio', ...atMost(ratio, 1.1) },
          { name: 'round trips but data-table reads ÷ ideal', value: writeRatio, unit: 'ratio' },
          { name: 'entity operations written', value: traffic.operations, unit: 'entities' },
          { name: 'data-table reads', value: dataReads, unit: 'requests' },
          { name: 'Runs-table requests', value: ideal.runsTable, unit: 'requests' },
          { name: 'Partner Center requests', value: pcRequests, unit: 'requests' },
          { name: 'CPU time, snapshot process', value: cpu.child, unit: 's' },
          { name: 'CPU time, Azurite', value: cpu.azurite, unit: 's' },
          { name: 'customers written', value: run.counts.customersWritten, unit: 'customers' },
          { name: 'subscriptions written', value: run.counts.subscriptionsWritten, unit: 'subscriptions' },
          { name: 'resources written', value: run.counts.resourcesWritten, unit: 'resources' },
        ],
        notes: [
          "The snapshot runs in a child process built by the app's composition root (dist/app/dependencies.js) with the settings a deployment would have, except PARTNER_CENTER_REQUESTS_PER_MINUTE = 100000 (the sandbox is unthrottled, no added latency); concurrency stays at the defaults (PARTNER_CENTER_MAX_CONCURRENCY 4, SNAPSHOT_CUSTOMER_CONCURRENCY 4).",
          "Peak RSS = the larger of the child's process.resourceUsage().maxRSS and /proc/<pid>/status VmHWM, read after the run (Node, the app's modules and the SDK clients included).",
          'Table round trips are counted on the wire by a loopback proxy in front of Azurite (bench/support/tableCountingProxy.ts), from just after the tables exist to the finished run record; the app is not instrumented.',
          `Ideal = Σ over every partition of the data tables (Customers, Resources, CustomerLists) of ⌈entity operations sent to that partition ÷ 100⌉ — the fewest entity-group transactions that can carry what the run wrote (${ideal.dataBatches}) — plus every request to the Runs table (${ideal.runsTable}: run record, lease, heartbeats, checkpoint counts, finish), taken as unavoidable point writes and reads. Reads of the data tables count as overhead (ideal 0). The 4 MiB transaction limit is not modelled (no view here comes near it).`,
          `Store's own count of its round trips (UsageStore.metrics): ${done.storeMetrics.roundTrips}; entities it wrote: ${done.storeMetrics.entitiesWritten}. Azurite answered ${traffic.errorAnswers} requests with status >= 400.`,
          `RSS after the run ${done.rssMiB.toFixed(0)} MiB, heap used ${done.heapUsedMiB.toFixed(0)} MiB. Warnings logged: ${done.logged.warn}, errors: ${done.logged.error}.`,
          "Data-table reads: each customer's commit reads its view header first (one point read: the slot its parts go to, and the ETag its flip is conditional on), so a run makes one read per customer on top of its writes; 'round trips but data-table reads ÷ ideal' shows the batching of the writes alone. The child runs with the NODE_OPTIONS the deployment sets (infra/app/node-options.txt).",
          'The proxy adds one loopback hop to every Table request, which lengthens the wall time a little; it does not change what is counted.',
          "CPU time of the snapshot process and of Azurite over the run (/proc/<pid>/stat): where the two cores went. Azurite's in-memory store (LokiJS) gets slower per request as it fills, so at this size the wall time says more about Azurite than about the app.",
        ],
      };
    } finally {
      await child.stop();
      await proxy.close();
      await stack.close();
    }
  },
};

function idealRoundTrips(traffic: TableTraffic): { total: number; dataBatches: number; runsTable: number } {
  let dataBatches = 0;
  for (const [key, operations] of traffic.operationsByPartition) {
    const table = key.slice(0, key.indexOf('|'));
    if (DATA_TABLES.includes(table)) dataBatches += Math.ceil(operations / 100);
  }
  const runs = traffic.byTable[RUNS_TABLE];
  const runsTable = runs ? runs.batches + runs.writes + runs.reads + runs.other : 0;
  return { total: dataBatches + runsTable, dataBatches, runsTable };
}
