'use strict';
// The app's HTTP API for the read scenarios: the built app (dist/, what Azure runs) served by the
// local host in its own process, so load generators and the measured server do not share an
// event loop and its memory can be read from /proc. Plain JavaScript: only built code loads here.
// Prints `BENCH {"listening":true,"port":N}`; runs until killed. A `stats` line on stdin answers
// `BENCH {"stats":{…}}`: what the server itself saw (see serverStats below).
const diagnostics = require('node:diagnostics_channel');
const path = require('node:path');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const readline = require('node:readline');

/**
 * Requests as the server saw them, for telling a slow server from a slow client: each request's
 * time from the server's 'request' event to its last byte handed to the socket, in whole-ms
 * counts; requests whose connection closed before the answer was finished (the client gave up);
 * and this process's event-loop delay.
 */
function serverStats() {
  const durations = new Map();
  let received = 0;
  let answered = 0;
  let abandoned = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  diagnostics.subscribe('http.server.request.start', ({ response }) => {
    received++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const started = performance.now();
    let done = false;
    response.once('finish', () => {
      done = true;
      inFlight--;
      answered++;
      const ms = Math.round(performance.now() - started);
      durations.set(ms, (durations.get(ms) ?? 0) + 1);
    });
    // The response's own 'close' (not the keep-alive socket's, which would gather a listener per
    // request): emitted after 'finish', or alone when the connection closed first.
    response.once('close', () => {
      if (done) return;
      done = true;
      inFlight--;
      abandoned++;
    });
  });
  return () => ({
    received,
    answered,
    abandoned,
    inFlight,
    maxInFlight,
    durations: Object.fromEntries(durations),
    eventLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
  });
}

async function main() {
  const stats = serverStats();
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`BENCH ${JSON.stringify({ stats: stats() })}\n`);
  });
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
