import path from 'node:path';
import { parseArgs } from 'node:util';
import { resetDependencies, dependencies, useLocalSettingsFile } from '../app/dependencies';
import { applyLocalSettings, ensureLocalSettings, readLocalSettings } from '../config/localSettings';
import { ConfigurationError, getSettings, isLoopbackHost, resetSettingsCache } from '../config/settings';
import { consoleLogger } from '../observability/logger';
import { runSnapshotToCompletion, type InvocationOutcome } from '../snapshot/runSnapshot';
import { snapshotDependencies, withTokenFlush } from '../snapshot/snapshotDependencies';

/**
 * `npm run snapshot`: one snapshot run now, to completion, against the environment that
 * local.settings.json (or the process environment) configures — the same Table Storage and
 * Partner Center the app would use. It starts neither Azurite nor the sandbox (`npm start` does,
 * and runs the timers itself). Exit code 0 when the run succeeded or was partial, 1 otherwise.
 */
async function main(): Promise<number> {
  const root = path.resolve(__dirname, '../..');
  const { values: args } = parseArgs({ options: { settings: { type: 'string' } } });
  // --settings FILE: another settings file (tests, or a second environment), read and written back.
  const settingsFile = args.settings ? path.resolve(args.settings) : ensureLocalSettings(root);
  applyLocalSettings(readLocalSettings(settingsFile).Values, process.env);
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
    return fail(
      `Table Storage is not reachable: ${oneLine(error)} (is Azurite running? npm start runs one in memory)`,
    );
  }

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  const started = Date.now();
  const logger = consoleLogger(process.env.SNAPSHOT_LOG_LEVEL === 'debug' ? 'debug' : 'warn');
  const outcome = await withTokenFlush(deps, logger, () =>
    runSnapshotToCompletion(snapshotDependencies(deps, logger, stop.signal)),
  );
  return report(outcome, Date.now() - started, stop.signal.aborted);
}

function report(outcome: InvocationOutcome, ms: number, interrupted: boolean): number {
  const seconds = (ms / 1000).toFixed(1);
  switch (outcome.kind) {
    case 'finished': {
      const { runId, state, counts, reason } = outcome.run;
      console.log(
        `run ${runId}: ${state} in ${seconds} s — customers ${counts.customersWritten} written, ` +
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
