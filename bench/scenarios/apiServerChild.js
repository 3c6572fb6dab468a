'use strict';
// The app's HTTP API for the read scenarios: the built app (dist/, what Azure runs) served by the
// local host in its own process, so load generators and the measured server do not share an
// event loop and its memory can be read from /proc. Plain JavaScript: only built code loads here.
// Prints `BENCH {"listening":true,"port":N}`; runs until killed.
const path = require('node:path');

async function main() {
  const root = process.argv[2];
  const core = require(path.join(root, 'dist-dev/localHost/functionsCore.js'));
  core.installFunctionsCore();
  require(path.join(root, 'dist/index.js'));
  const { startLocalHost } = require(path.join(root, 'dist-dev/localHost/host.js'));
  const host = await startLocalHost({
    port: 0,
    host: '127.0.0.1',
    functionKey: process.env.BENCH_FUNCTION_KEY,
    masterKey: process.env.BENCH_MASTER_KEY,
    timers: false,
    log: () => undefined,
  });
  process.stdout.write(`BENCH ${JSON.stringify({ listening: true, url: host.url })}\n`);
}

main().catch((error) => {
  process.stdout.write(`BENCH ${JSON.stringify({ failed: String(error && error.stack) })}\n`);
  process.exit(1);
});
