import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import {
  atMost,
  coresBusy,
  machineCpu,
  procMemoryMiB,
  repoRoot,
  type Figure,
  type Scenario,
} from '../harness';
import { deployedNodeOptions, sandboxAppEnv } from '../support/appEnv';
import { startBenchChild, type BenchChild } from '../support/benchChild';
import { startStack } from '../support/snapshotStack';
import { startTableCountingProxy, type TableTraffic } from '../support/tableCountingProxy';

interface Params {
  customers: number;
  blobs: number;
  linesPerBlob: number;
  consumers: number[];
  /** Also one consumer with Node's default heap (no NODE_OPTIONS), for reference. */
  defaultHeapRun: boolean;
  seed: number;
  timeoutMinutes: number;
}

interface Done<R> {
  done: true;
  ms: number;
  result: R;
  maxRssMiB: number;
  logged: { warn: number; error: number; first: string[] };
}

interface WorkerResult {
  blobMs: number;
  mergeMs: number;
  blobs: number;
  merges: number;
  storeRoundTrips: number;
  peaks: Record<'blob' | 'merge', { rssMiB: number; heapMiB: number }>;
  final: {
    state: string;
    linesRead: number;
    linesRejected: number;
    blobsDone: number;
    failedBlobs: unknown[];
  };
}

const PREFIX = 'uxbench';
const DATA_TABLES = ['UsageStaging', 'DailyUsage'].map((t) => PREFIX + t);
const EXPORTS_TABLE = `${PREFIX}UsageExports`;
const CHILD = () => path.join(repoRoot(), 'bench/scenarios/usageExportChild.js');

/**
 * The usage export at scale: one export of many line items over many gzip blobs from the sandbox's
 * Graph side, processed by 1, 2 and 4 queue consumers (child processes running the app's handler
 * logic from dist/, one message at a time), each reporting its own peak RSS. The floor is measured
 * in the same run on the same blobs: fetch, gunzip, split and JSON.parse only. Table requests are
 * counted on the wire by a proxy in front of Azurite.
 */
export const usageExport: Scenario<Params> = {
  name: 'usageExport',
  description:
    'usage export blobs: worker time ÷ floor, peak RSS per worker, Table round trips ÷ ideal, 1/2/4 consumers',
  full: {
    customers: 200,
    blobs: 12,
    linesPerBlob: 84_000,
    consumers: [1, 2, 4],
    defaultHeapRun: true,
    seed: 17,
    timeoutMinutes: 30,
  },
  smoke: {
    customers: 6,
    blobs: 2,
    linesPerBlob: 300,
    consumers: [1, 2],
    defaultHeapRun: false,
    seed: 17,
    timeoutMinutes: 2,
  },
  async run(params, log) {
    const stack = await startStack({
      customers: params.customers,
      seed: params.seed,
      graph: {
        blobCount: params.blobs,
        linesPerBlob: params.linesPerBlob,
        retryAfterSeconds: 0,
        runningPolls: 1,
        cacheBlobs: true,
        sasLifetimeSeconds: 6 * 3600,
      },
    });
    const proxy = await startTableCountingProxy(stack.azurite.connectionString);
    const figures: Figure[] = [];
    const notes: string[] = [];
    const children: BenchChild[] = [];
    const queues = QueueServiceClient.fromConnectionString(stack.azurite.connectionString);
    const child = async (env: Record<string, string>, args: string[]) => {
      const c = startBenchChild(CHILD(), [repoRoot(), ...args], env);
      children.push(c);
      await c.next((m: { ready?: boolean }) => m.ready === true, 60_000);
      return c;
    };
    const finish = async <R>(c: BenchChild): Promise<Done<R>> => {
      const done = await c.next<Done<R> & { failed?: string }>(
        (m) => m.done === true || m.failed !== undefined,
        params.timeoutMinutes * 60_000,
      );
      if (done.failed) throw new Error(done.failed);
      const hwm = procMemoryMiB(c.pid, 'VmHWM');
      c.command('bye');
      return { ...done, maxRssMiB: Number.isFinite(hwm) ? Math.max(hwm, done.maxRssMiB) : done.maxRssMiB };
    };
    try {
      const invoiceId = 'G202602001';
      let floorMs = NaN;
      let totalLines = 0;
      const runs = [
        ...params.consumers.map((consumers) => ({ consumers, defaultHeap: false })),
        ...(params.defaultHeapRun ? [{ consumers: 1, defaultHeap: true }] : []),
      ];
      for (const { consumers, defaultHeap } of runs) {
        const queueName = `usage-export-${randomBytes(4).toString('hex')}`;
        await queues.getQueueClient(queueName).create();
        const env = sandboxAppEnv(proxy.connectionString, stack.sandbox, {
          TABLE_NAME_PREFIX: PREFIX,
          GRAPH_BASE_URL: stack.sandbox.graph.baseUrl,
          QUEUE_STORAGE: stack.azurite.connectionString,
          USAGE_EXPORT_QUEUE: queueName,
          PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
          // As deployed (every child, the floor's included); empty: Node's defaults.
          NODE_OPTIONS: defaultHeap ? '' : deployedNodeOptions(),
        });
        const starter = await child(env, ['start', invoiceId]);
        starter.command('go');
        const started = (await finish<{ exportId: string; blobCount: number }>(starter)).result;
        if (Number.isNaN(floorMs)) {
          // Warm the sandbox's blob cache and measure the floor on the same blobs, first.
          const floor = await child(env, ['floor', started.exportId, String(started.blobCount)]);
          floor.command('go');
          const floorDone = await finish<{ lines: number; bytes: number }>(floor);
          floorMs = floorDone.ms;
          totalLines = floorDone.result.lines;
          figures.push(
            { name: 'line items', value: totalLines, unit: 'lines' },
            { name: 'blobs', value: started.blobCount, unit: 'blobs' },
            { name: 'floor: fetch+gunzip+split+JSON.parse, all blobs', value: floorMs / 1000, unit: 's' },
            { name: 'floor peak RSS', value: floorDone.maxRssMiB, unit: 'MiB' },
          );
          log(`  floor: ${totalLines} lines in ${(floorMs / 1000).toFixed(1)} s`);
        }
        const workers = await Promise.all(
          Array.from({ length: consumers }, () => child(env, ['worker', started.exportId, queueName])),
        );
        proxy.reset();
        const t = performance.now();
        const cpuBefore = machineCpu();
        for (const w of workers) w.command('go');
        const results = await Promise.all(workers.map((w) => finish<WorkerResult>(w)));
        const wallMs = performance.now() - t;
        const cores = coresBusy(cpuBefore, machineCpu());
        const traffic = proxy.traffic();
        const blobMs = results.reduce((s, r) => s + r.result.blobMs, 0);
        const mergeMs = results.reduce((s, r) => s + r.result.mergeMs, 0);
        const final = results[0].result.final;
        if (final.state !== 'succeeded') throw new Error(`export ended ${final.state}`);
        const peak = Math.max(...results.map((r) => r.maxRssMiB));
        const phasePeak = (phase: 'blob' | 'merge', of: 'rssMiB' | 'heapMiB') =>
          Math.max(...results.map((r) => r.result.peaks[phase][of]));
        const label = defaultHeap ? "1 consumer, Node's default heap" : `${consumers} consumer(s)`;
        log(
          `  ${label}: ${(wallMs / 1000).toFixed(1)} s wall, blobs ${(blobMs / 1000).toFixed(1)} s, merge ${(mergeMs / 1000).toFixed(1)} s, peak RSS ${results.map((r) => r.maxRssMiB.toFixed(0)).join('/')} MiB`,
        );
        if (defaultHeap) {
          figures.push(
            { name: `${label}: peak RSS of the worker (reference)`, value: peak, unit: 'MiB' },
            { name: `${label}: peak heap in use, blobs`, value: phasePeak('blob', 'heapMiB'), unit: 'MiB' },
            { name: `${label}: peak heap in use, merge`, value: phasePeak('merge', 'heapMiB'), unit: 'MiB' },
          );
          continue;
        }
        figures.push(
          {
            name: `${consumers} consumer(s): export wall time (blobs + merge)`,
            value: wallMs / 1000,
            unit: 's',
          },
          {
            name: `${consumers} consumer(s): peak RSS of the largest worker`,
            value: peak,
            unit: 'MiB',
            ...atMost(peak, 256),
          },
          // Why more consumers help only as far as the machine has idle cores: the same blobs take
          // more summed worker time when the workers, Azurite and the sandbox share the cores.
          {
            name: `${consumers} consumer(s): blob time summed over workers`,
            value: blobMs / 1000,
            unit: 's',
          },
          { name: `${consumers} consumer(s): machine cores busy (mean)`, value: cores, unit: 'cores' },
        );
        if (consumers === 1) {
          const perWorker = blobMs / floorMs;
          const ideal = idealRoundTrips(traffic);
          const writes = writeRoundTrips(traffic);
          figures.push(
            { name: '1 consumer: blob time (all blobs)', value: blobMs / 1000, unit: 's' },
            { name: '1 consumer: peak heap in use, blobs', value: phasePeak('blob', 'heapMiB'), unit: 'MiB' },
            {
              name: '1 consumer: peak heap in use, merge',
              value: phasePeak('merge', 'heapMiB'),
              unit: 'MiB',
            },
            {
              name: 'worker time ÷ floor (same blobs)',
              value: perWorker,
              unit: 'ratio',
              ...atMost(perWorker, 3),
            },
            { name: 'lines per second per worker', value: final.linesRead / (blobMs / 1000), unit: '1/s' },
            { name: '1 consumer: merge time', value: mergeMs / 1000, unit: 's' },
            { name: 'Table write round trips', value: writes, unit: 'requests' },
            { name: 'ideal write round trips (full batches)', value: ideal, unit: 'requests' },
            {
              name: 'write round trips ÷ ideal',
              value: writes / ideal,
              unit: 'ratio',
              ...atMost(writes / ideal, 1.1),
            },
            {
              name: 'all Table round trips (reads, export record included)',
              value: traffic.roundTrips,
              unit: 'requests',
            },
          );
          if (final.linesRead !== totalLines)
            notes.push(
              `Lines read by the workers (${final.linesRead}) differ from the floor's (${totalLines}).`,
            );
        }
      }
      notes.push(
        "Each worker is a child process running the app's built handler logic (dist/usageExport/pipeline.js: processBlob, mergeSlice) with the settings a deployment would have, taking one queue message at a time from Azurite as a host instance with batchSize 1 does; 2 and 4 consumers are 2 and 4 such processes on the same queue.",
        "Floor: one process fetching every blob of the same export from the sandbox, gunzipping, splitting lines and JSON.parse-ing each, nothing kept; worker time ÷ floor compares the 1-consumer run's time inside processBlob (fetch, gunzip, parse, aggregate, stage to Table Storage, mark done) with it.",
        "Peak RSS = the larger of the child's process.resourceUsage().maxRSS and /proc/<pid>/status VmHWM (Node, the app's modules and SDK clients included). Every child runs with the NODE_OPTIONS the deployment sets (infra/app/node-options.txt); the reference run gives one worker Node's defaults, whose heap limit follows the machine's memory (here about 4 GiB), so V8 lets garbage grow to several times the live data before collecting. Peak heap in use is process.memoryUsage().heapUsed sampled every 10 ms while a blob or a merge slice runs (garbage not yet collected included).",
        `Ideal write round trips = Σ over every partition of ${DATA_TABLES.join(', ')} and the export's work partition of ⌈entity operations ÷ 100⌉, plus every write to the export record (one per blob and per state change, unavoidable). Reads (the merge reads each customer's staged rows once per blob) are reported in "all Table round trips", not in the ratio. The 4 MiB transaction limit is not modelled: a blob's staged rows are large, so some transactions carry fewer than 100.`,
        'The sandbox serves each blob from memory after its first generation (cacheBlobs), so neither side measures the generator.',
        `Machine cores busy: the mean number of this machine's ${os.cpus().length} cores busy (user, system, irq, steal: anything but idle and iowait, from /proc/stat) during the run, every process included. Workers, Azurite and the sandbox share them; on Flex Consumption each consumer is an instance of its own.`,
      );
      return { scenario: 'usageExport', description: this.description, parameters: params, figures, notes };
    } finally {
      await Promise.all(children.map((c) => c.stop()));
      await proxy.close();
      await stack.close();
    }
  },
};

function writeRoundTrips(traffic: TableTraffic): number {
  let writes = 0;
  for (const [table, t] of Object.entries(traffic.byTable))
    if (DATA_TABLES.includes(table) || table === EXPORTS_TABLE) writes += t.batches + t.writes;
  return writes;
}

function idealRoundTrips(traffic: TableTraffic): number {
  let ideal = 0;
  for (const [key, operations] of traffic.operationsByPartition) {
    const [table, partition] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
    if (DATA_TABLES.includes(table) || (table === EXPORTS_TABLE && partition.startsWith('x_')))
      ideal += Math.ceil(operations / 100);
  }
  const exportsRecord =
    [...traffic.operationsByPartition].find(([k]) => k === `${EXPORTS_TABLE}|exports`)?.[1] ?? 0;
  return ideal + exportsRecord;
}
