'use strict';
// Child of the scale scenario: one snapshot through the app's own composition root (dist/, what
// Azure runs), alone in its process, so the peak resident set it reports is the snapshot's.
// Plain JavaScript on purpose: no TypeScript tooling in the measured process.
// Protocol: prints `BENCH {json}` lines; waits for a line on stdin before the run and before exiting.
const path = require('node:path');
const readline = require('node:readline');

const mib = (bytes) => bytes / 2 ** 20;
const send = (message) => process.stdout.write(`BENCH ${JSON.stringify(message)}\n`);

async function main() {
  const root = process.argv[2];
  const commands = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  const { dependencies } = require(path.join(root, 'dist/app/dependencies.js'));
  const { createLogger } = require(path.join(root, 'dist/observability/logger.js'));
  const { runSnapshotToCompletion } = require(path.join(root, 'dist/snapshot/runSnapshot.js'));
  const { snapshotDependencies } = require(path.join(root, 'dist/snapshot/snapshotDependencies.js'));

  const deps = dependencies();
  await deps.usageStore.ensureTables();
  send({ ready: true, rssMiB: mib(process.memoryUsage().rss) });
  await commands.next();

  const logged = { warn: 0, error: 0, first: [] };
  const logger = createLogger((level, line) => {
    logged[level]++;
    if (logged.first.length < 5) logged.first.push(`${level}: ${line.slice(0, 300)}`);
  }, 'warn');
  const before = { ...deps.usageStore.metrics };
  const started = performance.now();
  const outcome = await runSnapshotToCompletion(snapshotDependencies(deps, logger), 'cli');
  const ms = performance.now() - started;
  const metrics = deps.usageStore.metrics;
  send({
    done: true,
    ms,
    outcome,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    rssMiB: mib(process.memoryUsage().rss),
    heapUsedMiB: mib(process.memoryUsage().heapUsed),
    storeMetrics: {
      roundTrips: metrics.roundTrips - before.roundTrips,
      transactions: metrics.transactions - before.transactions,
      entitiesWritten: metrics.entitiesWritten - before.entitiesWritten,
    },
    logged,
  });
  await commands.next();
  process.exit(0);
}

main().catch((error) => {
  send({ failed: error instanceof Error ? error.stack : String(error) });
  process.exit(1);
});
