import path from 'node:path';
import { parseArgs } from 'node:util';
import { resetDependencies, dependencies, useLocalSettingsFile } from '#app/app/dependencies';
import { applyLocalSettings, ensureLocalSettings, readLocalSettings } from '#app/config/localSettings';
import {
  ConfigurationError,
  getSettings,
  isLoopbackHost,
  resetSettingsCache,
  type Settings,
} from '#app/config/settings';
import { useRunningAzurite } from '../localHost/runtimeFile';
import { consoleLogger } from '#app/observability/logger';
import { runSnapshotToCompletion, type InvocationOutcome } from '#app/snapshot/runSnapshot';
import { snapshotDependencies, withTokenFlush } from '#app/snapshot/snapshotDependencies';

/**
 * `npm run snapshot`: one snapshot run now, to completion, against the environment that
 * local.settings.json (or the process environment) configures — the same Table Storage and
 * Partner Center the app would use. It starts neither Azurite nor the sandbox (`npm start` does,
 * and runs the timers itself). Exit code 0 when the run succeeded or was partial, 1 otherwise.
 * `--full` reads every customer's detail, as SNAPSHOT_MODE=full does.
 */
async function main(): Promise<number> {
  const root = path.resolve(__dirname, '../..');
  const { values: args } = parseArgs({
    options: { settings: { type: 'string' }, full: { type: 'boolean', default: false } },
  });
  // --settings FILE: another settings file (tests, or a second environment), read and written back.
  const settingsFile = args.settings ? path.resolve(args.settings) : ensureLocalSettings(root);
  applyLocalSettings(readLocalSettings(settingsFile).Values, process.env);
  // UseDevelopmentStorage=true means the running `npm start`'s Azurite, wherever it listens.
  const npmStart = useRunningAzurite(process.env, settingsFile);
  useLocalSettingsFile(settingsFile);
  resetSettingsCache();
  resetDependencies();
  const settings = getSettings();
  const deps = dependencies();

  const pcUrl = new URL(settings.partnerCenter.baseUrl);
  if (isLoopbackHost(pcUrl.hostname)) {
    const reachable = await fetch(pcUrl, { signal: AbortSignal.timeout(3_000) }).then(
      () => true,
      () => false,
    );
    if (!reachable)
      return fail(`Partner Center at ${pcUrl.origin} is not reachable (start the sandbox: npm run sandbox)`);
  }
  try {
    await withTimeout(deps.usageStore.ensureTables(), 15_000);
  } catch (error) {
    return fail(storageFailure(error, settings, npmStart !== undefined));
  }

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const started = Date.now();
  const logger = consoleLogger(process.env.SNAPSHOT_LOG_LEVEL === 'debug' ? 'debug' : 'warn');
  const snapshotDeps = snapshotDependencies(deps, logger, stop.signal);
  // --full: this run reads every customer, whatever SNAPSHOT_MODE says.
  if (args.full) snapshotDeps.settings = { ...snapshotDeps.settings, mode: 'full' };
  const outcome = await withTokenFlush(deps, logger, () => runSnapshotToCompletion(snapshotDeps));
  return report(outcome, Date.now() - started, stop.signal.aborted);
}

function report(outcome: InvocationOutcome, ms: number, interrupted: boolean): number {
  const seconds = (ms / 1000).toFixed(1);
  switch (outcome.kind) {
    case 'finished': {
      const { runId, state, counts, reason } = outcome.run;
      console.log(
        `run ${runId}: ${state} in ${seconds} s — customers ${counts.customersWritten} written ` +
          `(${counts.customersFetched ?? counts.customersWritten} fetched, ${counts.customersCarriedOver ?? 0} carried over), ` +
          `${counts.customersFailed} failed; subscriptions ${counts.subscriptionsWritten}; resources ${counts.resourcesWritten}` +
          (reason ? `; ${reason}` : ''),
      );
      return state === 'failed' ? 1 : 0;
    }
    case 'yielded':
      return fail(
        `run ${outcome.run.runId} ${interrupted ? 'interrupted' : 'yielded'} after ${seconds} s; it continues from its checkpoint next time`,
      );
    case 'refused':
    case 'busy':
      return fail(
        `run ${outcome.kind === 'refused' ? outcome.activeRunId : outcome.runId} is already being worked on by another process`,
      );
    case 'leaseLost':
      return fail(`run ${outcome.runId}: another process took the run over`);
    case 'idle':
      return fail('nothing to run');
  }
}

/**
 * Why Table Storage could not be used, told apart: nothing listening (start it), an answer that
 * refused the credentials (fix them), or anything else. Names the endpoint, never the key.
 */
function storageFailure(error: unknown, settings: Settings, viaNpmStart: boolean): string {
  const where = tableEndpointOf(settings);
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 401 || status === 403) {
    const code = (error as { code?: string }).code;
    return `Table Storage at ${where} answered but refused the credentials (${status}${code ? ` ${code}` : ''}): check STORAGE_CONNECTION_STRING or the signed-in identity's role on the account`;
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|socket hang up/i.test(causeText(error))) {
    return viaNpmStart
      ? `nothing is listening at ${where}, where the running npm start said its Azurite is (${oneLine(error)})`
      : `nothing is listening at ${where} (is npm start running? It runs Azurite in memory; or start Azurite yourself)`;
  }
  return `Table Storage at ${where} could not be used: ${oneLine(error)}`;
}

function tableEndpointOf(settings: Settings): string {
  if (settings.storage.kind === 'endpoint') return settings.storage.tableEndpoint;
  const connection = settings.storage.connectionString;
  if (/UseDevelopmentStorage=true/i.test(connection)) return 'http://127.0.0.1:10002/devstoreaccount1';
  return /TableEndpoint=([^;]+)/i.exec(connection)?.[1] ?? 'the account of STORAGE_CONNECTION_STRING';
}

function causeText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    parts.push(String((e as { code?: unknown }).code ?? ''), e instanceof Error ? e.message : String(e));
  }
  return parts.join(' ');
}

function fail(reason: string): number {
  console.error(`snapshot failed: ${reason}`);
  return 1;
}

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof ConfigurationError ? error.message : `snapshot failed: ${oneLine(error)}`);
    process.exit(1);
  },
);
