'use strict';
// Child of the cold-start scenario. Plain JavaScript on purpose: it must load only the deploy
// package (argv[4]: its dist/ and its own node_modules, what Azure runs) and the built local host
// (argv[3]/dist-dev/localHost, playing the Functions worker), with no TypeScript tooling in the way.
const { performance } = require('node:perf_hooks');
const path = require('node:path');

async function main() {
  const root = process.argv[3];
  const core = require(path.join(root, 'dist-dev/localHost/functionsCore.js'));
  core.installFunctionsCore();
  const app = process.argv[4];
  require(path.join(app, require(path.join(app, 'package.json')).main));
  const loadedMs = performance.now();
  const { startLocalHost } = require(path.join(root, 'dist-dev/localHost/host.js'));
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
