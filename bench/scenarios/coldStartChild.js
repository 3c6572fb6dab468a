'use strict';
// Child of the cold-start scenario. Plain JavaScript on purpose: it must load only the built app
// (dist/, what Azure runs) and the built local host, with no TypeScript tooling in the way.
const { performance } = require('node:perf_hooks');
const path = require('node:path');

async function main() {
  const root = process.argv[3];
  const core = require(path.join(root, 'dist/localHost/functionsCore.js'));
  core.installFunctionsCore();
  require(path.join(root, 'dist/index.js'));
  const loadedMs = performance.now();
  const { startLocalHost } = require(path.join(root, 'dist/localHost/host.js'));
  await startLocalHost({
    port: Number(process.argv[2]),
    functionKey: 'k',
    masterKey: 'm',
    timers: false,
    log: () => undefined,
  });
  const count = core.registeredFunctions().length;
  process.stdout.write(`origin ${performance.timeOrigin} loaded ${loadedMs} functions ${count} listening\n`);
}

void main();
