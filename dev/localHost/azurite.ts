import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { freePort } from './freePort';

/** Azurite's documented, public development account; it opens nothing outside a local emulator. */
const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Where `UseDevelopmentStorage=true` looks for the Table service. */
export const DEV_STORAGE_TABLE_PORT = 10002;
/** Where `UseDevelopmentStorage=true` looks for the Queue service. */
export const DEV_STORAGE_QUEUE_PORT = 10001;

/** A running in-memory Azurite: its Table and Queue services, one process each. */
export interface AzuriteTables {
  tableEndpoint: string;
  queueEndpoint: string;
  /** Both endpoints, for the Table and the Queue SDK alike. */
  connectionString: string;
  /** The Table service's process (the Queue service's is `queuePid`). */
  pid: number;
  queuePid: number;
  stop(): Promise<void>;
}

/** A connection string for Azurite's development account; the queue endpoint only when given. */
export function azuriteConnectionString(port: number, queuePort?: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};` +
    `TableEndpoint=http://127.0.0.1:${port}/${DEV_ACCOUNT};` +
    (queuePort === undefined ? '' : `QueueEndpoint=http://127.0.0.1:${queuePort}/${DEV_ACCOUNT};`)
  );
}

/**
 * Runs Azurite (argv[1] onwards, as if started as `node main.js …`) and exits when stdin closes.
 * The parent holds stdin's only write end, so when the parent dies, however it dies (even
 * SIGKILL, which leaves it no chance to stop its children), the kernel closes the pipe and
 * Azurite exits instead of holding its port for ever.
 */
const EXIT_WITH_PARENT = [
  "process.stdin.on('end', () => process.exit(0));",
  "process.stdin.on('error', () => process.exit(0));",
  'process.stdin.resume();',
  'require(process.argv[1]);',
].join('\n');

/**
 * Starts Azurite's Table and Queue services in memory on loopback ports (free ones unless given).
 * Azurite accepts port 0 but then reports 0, so the ports are chosen here; a lost race for a free
 * port is retried. A given port that is taken fails at once.
 */
export async function startAzurite(
  options: { port?: number; queuePort?: number; attempts?: number } = {},
): Promise<AzuriteTables> {
  const table = await withRetries(options.port, options.attempts, (port) => launch('table', port));
  try {
    const queue = await withRetries(options.queuePort, options.attempts, (port) => launch('queue', port));
    return {
      tableEndpoint: `http://127.0.0.1:${table.port}/${DEV_ACCOUNT}`,
      queueEndpoint: `http://127.0.0.1:${queue.port}/${DEV_ACCOUNT}`,
      connectionString: azuriteConnectionString(table.port, queue.port),
      pid: table.child.pid as number,
      queuePid: queue.child.pid as number,
      stop: async () => {
        await Promise.all([stopChild(table.child), stopChild(queue.child)]);
      },
    };
  } catch (error) {
    await stopChild(table.child);
    throw error;
  }
}

async function withRetries<T>(
  fixed: number | undefined,
  attempts = 5,
  start: (port: number) => Promise<T>,
): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = fixed ?? (await freePort());
    try {
      return await start(port);
    } catch (error) {
      lastError = error;
      if (fixed !== undefined) break;
    }
  }
  throw lastError;
}

async function launch(
  service: 'table' | 'queue',
  port: number,
): Promise<{ child: ChildProcess; port: number }> {
  const main = path.join(
    path.dirname(require.resolve('azurite/package.json')),
    `dist/src/${service}/main.js`,
  );
  const child = spawn(
    process.execPath,
    [
      '-e',
      EXIT_WITH_PARENT,
      main,
      '--inMemoryPersistence',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      `--${service}Host`,
      '127.0.0.1',
      `--${service}Port`,
      String(port),
    ],
    // stdin is the lifeline: this process holds its only write end and never writes to it.
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  await waitForStart(child, port);
  return { child, port };
}

function waitForStart(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`Azurite did not start on port ${port} within 20 s`)),
      20_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/successfully (started|listens)/.test(output)) {
        cleanup();
        resolve();
      } else if (/EADDRINUSE|error/i.test(output)) {
        fail(new Error(`Azurite failed on port ${port}: ${output.trim().split('\n').pop()}`));
      }
    };
    const onExit = (code: number | null) => fail(new Error(`Azurite exited (${code}) before starting`));
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining so a chatty Azurite never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
    };
    const fail = (error: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(error);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
