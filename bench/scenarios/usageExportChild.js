'use strict';
// Child of the usageExport scenario, one role per process so each reports its own peak RSS:
//   start <invoiceId>          starts a billed export through the app's pipeline and polls it until
//                              its blobs are queued; prints the export id and blob count;
//   floor <exportId> <blobs>   the floor: each blob fetched, gunzipped, split and JSON.parse'd, nothing else;
//   worker <exportId> <queue>  a queue consumer: takes one message at a time, as a host instance with
//                              batchSize 1 would, and runs the app's handler logic (processBlob / mergeSlice).
// Plain JavaScript on purpose: no TypeScript tooling in the measured process. Built app: dist/.
// Protocol: prints `BENCH {json}` lines; waits for a line on stdin before the work and before exiting.
const path = require('node:path');
const readline = require('node:readline');
const { Readable } = require('node:stream');
const { StringDecoder } = require('node:string_decoder');
const { createGunzip } = require('node:zlib');

const mib = (bytes) => bytes / 2 ** 20;
const send = (message) => process.stdout.write(`BENCH ${JSON.stringify(message)}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const [root, role, a, b] = process.argv.slice(2);
  const commands = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const app = (m) => require(path.join(root, 'dist', m));
  const { dependencies } = app('app/dependencies.js');
  const { createLogger } = app('observability/logger.js');
  const { exportPipeline } = app('usageExport/exportDependencies.js');
  const pipelineModule = app('usageExport/pipeline.js');
  const logged = { warn: 0, error: 0, first: [] };
  const logger = createLogger((level, line) => {
    logged[level]++;
    if (logged.first.length < 5) logged.first.push(`${level}: ${line.slice(0, 300)}`);
  }, 'warn');
  const deps = dependencies();
  const pipeline = { ...exportPipeline(deps, logger), mergeSliceMs: 25 * 60_000 };
  await pipeline.store.ensureTables();
  send({ ready: true, rssMiB: mib(process.memoryUsage().rss) });
  await commands.next();

  const started = performance.now();
  let result;
  if (role === 'start') {
    const record = await pipelineModule.requestBilledExport(pipeline, a);
    for (;;) {
      await pipelineModule.pollExports(pipeline);
      const found = await pipeline.store.getExport(record.exportId);
      if (found.record.state === 'processing') {
        result = { exportId: record.exportId, blobCount: found.record.blobCount };
        break;
      }
      if (found.record.state !== 'running')
        throw new Error(`export ${found.record.state}: ${found.record.reason}`);
      await sleep(200);
    }
  } else if (role === 'floor') {
    let lines = 0;
    let bytes = 0;
    for (let index = 0; index < Number(b); index++) {
      const blob = await pipeline.store.getBlobUrl(a, index);
      const response = await fetch(blob.url);
      if (response.status !== 200) throw new Error(`blob ${index}: ${response.status}`);
      const gunzip = createGunzip();
      Readable.fromWeb(response.body).pipe(gunzip);
      const decoder = new StringDecoder('utf8');
      let carry = '';
      for await (const chunk of gunzip) {
        bytes += chunk.length;
        const text = carry + decoder.write(chunk);
        let start = 0;
        let end = text.indexOf('\n');
        while (end !== -1) {
          if (end > start) {
            JSON.parse(text.slice(start, end));
            lines++;
          }
          start = end + 1;
          end = text.indexOf('\n', start);
        }
        carry = text.slice(start);
      }
      if (carry.trim() !== '') {
        JSON.parse(carry);
        lines++;
      }
    }
    result = { lines, bytes };
  } else if (role === 'worker') {
    const { QueueServiceClient } = require(path.join(root, 'node_modules/@azure/storage-queue'));
    const queue = QueueServiceClient.fromConnectionString(process.env.QUEUE_STORAGE).getQueueClient(b);
    let blobMs = 0;
    let mergeMs = 0;
    let blobs = 0;
    let merges = 0;
    const before = { ...pipeline.store.metrics };
    // Peak RSS and heap in use while a blob / a merge slice runs, sampled every 10 ms.
    const peaks = { blob: { rssMiB: 0, heapMiB: 0 }, merge: { rssMiB: 0, heapMiB: 0 } };
    let phase;
    const sampler = setInterval(() => {
      if (!phase) return;
      const m = process.memoryUsage();
      phase.rssMiB = Math.max(phase.rssMiB, mib(m.rss));
      phase.heapMiB = Math.max(phase.heapMiB, mib(m.heapUsed));
    }, 10);
    for (;;) {
      const { receivedMessageItems } = await queue.receiveMessages({
        numberOfMessages: 1,
        visibilityTimeout: 600,
      });
      if (receivedMessageItems.length === 0) {
        const found = await pipeline.store.getExport(a);
        if (['succeeded', 'partial', 'failed', 'expired'].includes(found.record.state)) break;
        await sleep(100);
        continue;
      }
      const m = receivedMessageItems[0];
      const message = JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8'));
      const t = performance.now();
      phase = message.kind === 'blob' ? peaks.blob : peaks.merge;
      if (message.kind === 'blob') {
        await pipelineModule.processBlob(pipeline, message, m.dequeueCount);
        blobMs += performance.now() - t;
        blobs++;
      } else {
        await pipelineModule.mergeSlice(pipeline, message);
        mergeMs += performance.now() - t;
        merges++;
      }
      phase = undefined;
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
    clearInterval(sampler);
    const metrics = pipeline.store.metrics;
    result = {
      blobMs,
      mergeMs,
      blobs,
      merges,
      storeRoundTrips: metrics.roundTrips - before.roundTrips,
      peaks,
      final: (await pipeline.store.getExport(a)).record,
    };
  }
  send({
    done: true,
    ms: performance.now() - started,
    result,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    logged,
  });
  await commands.next();
  process.exit(0);
}

main().catch((error) => {
  send({ failed: error instanceof Error ? error.stack : String(error) });
  process.exit(1);
});
