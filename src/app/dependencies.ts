import type { TokenCredential } from '@azure/identity';
import { getSettings, isLoopbackHost, type Settings } from '../config/settings';
import { createAzureCredential } from '../identity/azureCredential';
import { consoleLogger } from '../observability/logger';
import { registerSecret } from '../observability/redact';
import { RefreshTokenProvider } from '../partnerCenter/auth';
import { createPartnerCenterClient } from '../partnerCenter/client';
import type { AzurePlanUsageClient, PartnerCenterClient } from '../partnerCenter/partnerCenterClient';
import { createHttp } from '../partnerCenter/transport';
import { KeyVaultSecretStore } from '../secrets/keyVaultSecretStore';
import { LocalSecretStore } from '../secrets/localSecretStore';
import type { SecretStore } from '../secrets/secretStore';
import { signingKeySource, type SigningKeySource } from '../secrets/signingKeys';
import type { ExportQueue } from '../domain/dailyUsage';
import type { RunRequestQueue } from '../domain/runQueue';
import { ClientCredentialsTokenProvider } from '../graph/auth';
import { createUsageExportClient } from '../graph/client';
import type { UsageExportClient } from '../graph/usageExportClient';
import { createExportQueue, createQueueService, createRunRequestQueue } from '../queues/queueClients';
import { newTableMetrics } from '../storage/partitionWriter';
import { TableUsageExportStore } from '../storage/tableUsageExportStore';
import { createTableClients, type TableClients } from '../storage/tableClients';
import { createUsageStore, type UsageStore } from '../storage/tableUsageStore';

/**
 * The composition root: every SDK client and adapter is built here, once per process, on first
 * use. Triggers in src/functions ask for what they need; the logic they call takes it as
 * parameters and never reaches for this module itself.
 */
export interface Dependencies {
  settings: Settings;
  tables: TableClients;
  secretStore: SecretStore;
  partnerCenter: PartnerCenterClient & AzurePlanUsageClient;
  /** The client's tokens: a snapshot invocation flushes an unwritten rotation before it ends. */
  partnerCenterTokens: RefreshTokenProvider;
  /** The Table Storage adapter: the API's UsageReader/RunRequester and the snapshot's writer. */
  usageStore: UsageStore;
  /** The continuation-token signing keys, from the secret store. */
  continuationTokenKeys: SigningKeySource;
  /** Wakes a worker for a requested run; undefined when no queue is configured (QUEUE_STORAGE). */
  runRequests?: RunRequestQueue;
  /** The usage export's tables: export records, staged blobs, daily figures. */
  usageExports: TableUsageExportStore;
  /** The usage export's work queue (USAGE_EXPORT_QUEUE); undefined without QUEUE_STORAGE. */
  exportQueue?: ExportQueue;
  /** Microsoft Graph's usage export (app-only), built on first use. */
  usageExportClient(): UsageExportClient;
}

let instance: Dependencies | undefined;
let localSettingsFile: string | undefined;

/**
 * `npm start` and `npm run snapshot` name the local.settings.json they read, so the local secret
 * store keeps rotated refresh tokens there (Key Vault's part on a workstation).
 */
export function useLocalSettingsFile(file: string): void {
  localSettingsFile = file;
}
let credential: TokenCredential | undefined;

export function azureCredential(settings: Settings): TokenCredential {
  credential ??= createAzureCredential(settings.identity);
  return credential;
}

export function dependencies(): Dependencies {
  if (instance) return instance;
  const settings = getSettings();
  registerSecret(settings.secrets.localClientSecret);
  registerSecret(settings.secrets.localRefreshToken);
  const secretStore = createSecretStore(settings);
  const tables = createTableClients(settings.storage, () => azureCredential(settings));
  const queueService = settings.queues
    ? createQueueService(settings.queues, () => azureCredential(settings))
    : undefined;
  let exportClient: UsageExportClient | undefined;
  instance = {
    settings,
    tables,
    usageStore: createUsageStore(tables),
    secretStore,
    runRequests: queueService
      ? createRunRequestQueue(queueService, settings.snapshotRequestQueue)
      : undefined,
    usageExports: new TableUsageExportStore(tables, newTableMetrics()),
    exportQueue: queueService ? createExportQueue(queueService, settings.usageExport.queue) : undefined,
    usageExportClient: () => (exportClient ??= createGraphExportClient(settings, secretStore)),
    continuationTokenKeys: signingKeySource(secretStore, settings.secrets.continuationTokenKeyName, {
      cacheMs: settings.secrets.cacheMs,
    }),
    ...createPartnerCenter(settings, secretStore),
  };
  return instance;
}

function createSecretStore(settings: Settings): SecretStore {
  const vaultUri = settings.secrets.keyVaultUri;
  if (vaultUri) {
    // A loopback vault (a local fake) speaks plain http, which the SDK refuses unless told.
    const local = new URL(vaultUri).protocol === 'http:' && isLoopbackHost(new URL(vaultUri).hostname);
    return new KeyVaultSecretStore(vaultUri, azureCredential(settings), {
      cacheMs: settings.secrets.cacheMs,
      pingSecretName: settings.secrets.clientSecretName,
      clientOptions: local
        ? { allowInsecureConnection: true, disableChallengeResourceVerification: true }
        : undefined,
    });
  }
  return new LocalSecretStore(
    {
      [settings.secrets.clientSecretName]: settings.secrets.localClientSecret,
      [settings.secrets.refreshTokenName]: settings.secrets.localRefreshToken,
    },
    {
      file:
        localSettingsFile === undefined
          ? undefined
          : {
              path: localSettingsFile,
              settingFor: {
                [settings.secrets.clientSecretName]: 'PARTNER_CENTER_CLIENT_SECRET',
                [settings.secrets.refreshTokenName]: 'PARTNER_CENTER_REFRESH_TOKEN',
                [settings.secrets.continuationTokenKeyName]: 'CONTINUATION_TOKEN_KEY',
              },
            },
    },
  );
}

/** One HTTP client, token provider and rate limiter for every Partner Center call of the process. */
function createPartnerCenter(
  settings: Settings,
  secretStore: SecretStore,
): { partnerCenter: PartnerCenterClient & AzurePlanUsageClient; partnerCenterTokens: RefreshTokenProvider } {
  // Process-wide: its lines reach Application Insights through the worker's console capture.
  const logger = consoleLogger();
  const http = createHttp();
  const tokens = new RefreshTokenProvider({
    settings: settings.partnerCenter,
    secretStore,
    secretNames: settings.secrets,
    logger,
    http,
  });
  return {
    partnerCenter: createPartnerCenterClient({ settings: settings.partnerCenter, tokens, logger, http }),
    partnerCenterTokens: tokens,
  };
}

/** The Graph usage export client: app-only (client credentials), the same app registration and secret. */
function createGraphExportClient(settings: Settings, secretStore: SecretStore): UsageExportClient {
  const logger = consoleLogger();
  const http = createHttp();
  const tokens = new ClientCredentialsTokenProvider({
    settings: settings.partnerCenter,
    secretStore,
    secretNames: settings.secrets,
    logger,
    http,
  });
  return createUsageExportClient({ settings, tokens, logger, http });
}

/** Tests that change settings between cases start from a clean root. */
export function resetDependencies(): void {
  instance = undefined;
  credential = undefined;
}
