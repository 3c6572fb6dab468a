import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { useLocalSettingsFile } from '#app/app/dependencies';
import { applyLocalSettings, ensureLocalSettings, readLocalSettings } from '#app/config/localSettings';
import {
  ConfigurationError,
  SETTINGS,
  isLoopbackHost,
  loadSettings,
  resetSettingsCache,
} from '#app/config/settings';
import { DEV_STORAGE_QUEUE_PORT, DEV_STORAGE_TABLE_PORT, startAzurite, type AzuriteTables } from './azurite';
import { installFunctionsCore, triggerOf } from './functionsCore';
import { nextOccurrence, resolveSchedule, routePrefixFrom, startLocalHost, type LocalHost } from './host';
import { resolveQueueName } from './queues';
import {
  DEVELOPMENT_STORAGE_SETTINGS,
  isAlive,
  isDevelopmentStorage,
  removeRuntimeFile,
  runtimeFilePath,
  writeRuntimeFile,
} from './runtimeFile';
import { sandboxPassThrough, startSandboxFor, type RunningSandbox } from './sandbox';

/**
 * `npm start`: the whole app on a developer machine without Core Tools. Starts Azurite (when the
 * settings point at development storage) and the Partner Center sandbox (when the settings point
 * at a loopback Partner Center), then serves the functions the app registers. Ctrl-C stops all.
 */
async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  const { values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      'no-sandbox': { type: 'boolean', default: false },
      'no-timers': { type: 'boolean', default: false },
      customers: { type: 'string' },
      settings: { type: 'string' },
      ...sandboxPassThrough.options,
    },
  });
  const sandboxOptions = sandboxPassThrough.read(args);
  const settingsFile = args.settings ? path.resolve(args.settings) : ensureLocalSettings(root);
  const local = readLocalSettings(settingsFile);
  applyLocalSettings(local.Values, process.env);
  // What `azd provision` sets as app settings from the catalog's defaults: the host resolves
  // %SETTING% names (schedules, queue names) from settings only, never from the app's defaults.
  for (const spec of SETTINGS)
    if (spec.default !== undefined && !process.env[spec.name]) process.env[spec.name] = spec.default;
  useLocalSettingsFile(settingsFile);
  const port = Number(args.port ?? local.Host?.LocalHttpPort ?? 7071);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port ${args.port} is not a port number`);

  const stops: Array<() => Promise<void>> = [];
  let host: LocalHost | undefined;
  const shutdown = async (code: number) => {
    removeRuntimeFile(settingsFile, process.pid);
    await host?.close().catch(() => undefined);
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGHUP', () => void shutdown(0));
  // Killed outright (SIGKILL), whoever started this can no longer stop it: stop with them.
  // Azurite watches this process the same way (see azurite.ts).
  const parent = process.ppid;
  const npm = process.env.npm_lifecycle_event ? parentOf(parent) : undefined;
  setInterval(() => {
    if (process.ppid !== parent || (npm !== undefined && !isAlive(npm))) void shutdown(0);
  }, 500).unref();

  try {
    // A settings file from before the queue existed: the queue lives beside the tables.
    if (
      process.env.QUEUE_STORAGE === undefined &&
      isDevelopmentStorage(process.env.STORAGE_CONNECTION_STRING)
    )
      process.env.QUEUE_STORAGE = process.env.STORAGE_CONNECTION_STRING;
    if (DEVELOPMENT_STORAGE_SETTINGS.some((name) => isDevelopmentStorage(process.env[name]))) {
      // The development-storage ports first, so Storage Explorer finds them without being told.
      const azurite: AzuriteTables = await startAzurite({
        port: DEV_STORAGE_TABLE_PORT,
        queuePort: DEV_STORAGE_QUEUE_PORT,
      }).catch(() => {
        console.warn(
          `Port ${DEV_STORAGE_TABLE_PORT} or ${DEV_STORAGE_QUEUE_PORT} is taken: Azurite moves to free ports ` +
            `(npm run snapshot finds them through ${path.relative(process.cwd(), runtimeFilePath(settingsFile)) || runtimeFilePath(settingsFile)})`,
        );
        return startAzurite();
      });
      stops.push(() => azurite.stop());
      for (const name of DEVELOPMENT_STORAGE_SETTINGS)
        if (isDevelopmentStorage(process.env[name])) process.env[name] = azurite.connectionString;
      writeRuntimeFile({
        pid: process.pid,
        settingsFile,
        tableEndpoint: azurite.tableEndpoint,
        queueEndpoint: azurite.queueEndpoint,
        storageConnectionString: azurite.connectionString,
      });
      console.log(`Azurite (in memory): ${azurite.tableEndpoint} ${azurite.queueEndpoint}`);
    }
    const baseUrl = process.env.PARTNER_CENTER_BASE_URL ?? '';
    if (!args['no-sandbox'] && baseUrl && isLoopbackHost(new URL(baseUrl).hostname)) {
      const sandbox: RunningSandbox = await startSandboxFor(process.env, {
        ...sandboxOptions,
        customers: args.customers === undefined ? undefined : Number(args.customers),
      });
      stops.push(() => sandbox.close());
      console.log(`Partner Center sandbox: ${sandbox.baseUrl}`);
    }

    resetSettingsCache();
    loadSettings(process.env); // fail now, naming every bad setting, rather than on first request

    installFunctionsCore();
    // The app entry is package.json's "main", exactly what the Functions host loads.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const main = (require(path.join(root, 'package.json')) as { main: string }).main;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(path.join(root, main));

    host = await startLocalHost({
      port,
      routePrefix: routePrefixFrom(path.join(root, 'host.json')),
      functionKey: process.env.LOCAL_HOST_FUNCTION_KEY ?? '',
      masterKey: process.env.LOCAL_HOST_MASTER_KEY ?? '',
      timers: !args['no-timers'],
    });
    printFunctions(host);
  } catch (error) {
    console.error(
      error instanceof ConfigurationError ? error.message : `Failed to start: ${(error as Error).message}`,
    );
    await shutdown(1);
  }
}

/**
 * Under `npm start` this process's parent is npm's shell, which outlives a killed npm; npm is
 * the shell's parent. Read from /proc (Linux); elsewhere undefined, and only the parent is watched.
 */
function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (command) state ppid …": the command may hold spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function printFunctions(host: LocalHost): void {
  console.log(`\nFunctions (${host.url}):`);
  for (const fn of host.functions) {
    const trigger = triggerOf(fn);
    if (trigger.type.toLowerCase() === 'httptrigger') {
      const methods = ((trigger.methods as string[] | undefined) ?? []).join(',');
      console.log(
        `  ${fn.name}: [${methods}] ${host.url}/api/${String(trigger.route ?? fn.name)} (${String(trigger.authLevel)})`,
      );
    } else if (trigger.type.toLowerCase() === 'timertrigger') {
      const schedule = resolveSchedule(fn, process.env);
      console.log(`  ${fn.name}: timer "${schedule}", next ${nextOccurrence(schedule).toISOString()}`);
    } else if (trigger.type.toLowerCase() === 'queuetrigger') {
      console.log(`  ${fn.name}: queue "${resolveQueueName(fn, process.env)}"`);
    }
  }
  console.log(
    '\nFunction-level routes take the x-functions-key header (LOCAL_HOST_FUNCTION_KEY); admin-level routes LOCAL_HOST_MASTER_KEY. Ctrl-C stops.',
  );
}

void main();
