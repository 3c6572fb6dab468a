import type { Settings } from '../../src/config/settings';
import { startAzurite, type AzuriteTables } from '../../dev/localHost/azurite';
import type { LogLevel, Logger } from '../../src/observability/logger';
import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../dev/sandbox';
import type { UsageStore } from '../../src/storage/tableUsageStore';
import type { RunRecord } from '../../src/domain/runs';
import { sandboxAppEnv } from './appEnv';
import { builtApp } from './builtApp';

/** The snapshot side of the app, wired from settings the way src/app/dependencies.ts wires it. */
export interface SnapshotApp {
  settings: Settings;
  partnerCenter: SnapshotPartnerCenter;
  usageStore: UsageStore;
}

/**
 * Built from an explicit environment rather than through `dependencies()`, which reads
 * process.env once per process: scenarios run side by side in one process (the smoke test).
 */
export function snapshotApp(env: Record<string, string>, logger: Logger): SnapshotApp {
  const {
    settings: settingsModule,
    auth,
    client,
    transport,
    localSecretStore,
    tableClients,
    tableUsageStore,
  } = builtApp();
  const settings = settingsModule.loadSettings(env);
  const { LocalSecretStore } = localSecretStore;
  const secretStore = new LocalSecretStore({
    [settings.secrets.clientSecretName]: settings.secrets.localClientSecret,
    [settings.secrets.refreshTokenName]: settings.secrets.localRefreshToken,
  });
  const http = transport.createHttp();
  const tokens = new auth.RefreshTokenProvider({
    settings: settings.partnerCenter,
    secretStore,
    secretNames: settings.secrets,
    logger,
    http,
  });
  const tables = tableClients.createTableClients(settings.storage, () => {
    throw new Error('benchmarks use a connection string');
  });
  return {
    settings,
    partnerCenter: client.createPartnerCenterClient({
      settings: settings.partnerCenter,
      tokens,
      logger,
      http,
    }),
    usageStore: tableUsageStore.createUsageStore(tables),
  };
}

/** A logger that counts lines by level and keeps the first few warnings, for the result notes. */
export function countingLogger(minLevel: LogLevel = 'warn'): Logger & {
  counts: Record<LogLevel, number>;
  firstLines: string[];
} {
  const counts: Record<LogLevel, number> = { debug: 0, info: 0, warn: 0, error: 0 };
  const firstLines: string[] = [];
  const logger = builtApp().logger.createLogger((level, line) => {
    counts[level]++;
    if (firstLines.length < 5) firstLines.push(`${level}: ${line.slice(0, 300)}`);
  }, minLevel);
  return Object.assign(logger, { counts, firstLines });
}

/** Runs one snapshot to its end and times it; throws unless the run succeeded or was partial. */
export async function runSnapshot(app: SnapshotApp, logger: Logger): Promise<{ run: RunRecord; ms: number }> {
  await app.usageStore.ensureTables();
  const started = performance.now();
  const { runSnapshot: snapshot, snapshotDependencies } = builtApp();
  const outcome = await snapshot.runSnapshotToCompletion(
    snapshotDependencies.snapshotDependencies(app, logger),
    'cli',
  );
  const ms = performance.now() - started;
  if (outcome.kind !== 'finished' || outcome.run.state === 'failed') {
    throw new Error(`snapshot did not finish: ${JSON.stringify(outcome)}`);
  }
  return { run: outcome.run, ms };
}

export interface Stack {
  sandbox: Sandbox;
  azurite: AzuriteTables;
  /** The app's settings for this stack (storage, Partner Center = the sandbox). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** A sandbox and an in-memory Azurite, both on loopback, and the app settings that join them. */
export async function startStack(
  sandboxOptions: SandboxOptions,
  envOverrides: Record<string, string> = {},
): Promise<Stack> {
  const azurite = await startAzurite();
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({ host: '127.0.0.1', ...sandboxOptions });
  } catch (error) {
    await azurite.stop();
    throw error;
  }
  return {
    sandbox,
    azurite,
    env: sandboxAppEnv(azurite.connectionString, sandbox, { TABLE_NAME_PREFIX: 'bench', ...envOverrides }),
    close: async () => {
      await sandbox.close().catch(() => undefined);
      await azurite.stop();
    },
  };
}
