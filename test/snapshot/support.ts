import type { Settings } from '../../src/config/settings';
import { memoryLogger } from '../../src/observability/logger';
import { RefreshTokenProvider } from '../../src/partnerCenter/auth';
import { createPartnerCenterClient } from '../../src/partnerCenter/client';
import type { PartnerCenterClient } from '../../src/partnerCenter/partnerCenterClient';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import type { SnapshotDependencies } from '../../src/snapshot/runSnapshot';
import { newStore } from '../storage/factories';

const SECRET_NAMES = {
  clientSecretName: 'partner-center-client-secret',
  refreshTokenName: 'partner-center-refresh-token',
} as const;

/** The real Partner Center client, pointed at a sandbox over HTTP. */
export function clientFor(sandbox: Sandbox, logger = memoryLogger()): PartnerCenterClient {
  const settings: Settings['partnerCenter'] = {
    baseUrl: sandbox.baseUrl,
    authorityHost: sandbox.baseUrl,
    tenantId: sandbox.credentials.tenantId,
    clientId: sandbox.credentials.clientId,
    scope: 'https://api.partnercenter.microsoft.com/user_impersonation offline_access',
    requestsPerMinute: 1_000_000,
    maxConcurrency: 16,
    timeoutMs: 5_000,
    maxRetries: 3,
  };
  const retry = { baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 10_000 };
  const tokens = new RefreshTokenProvider({
    settings,
    secretStore: new LocalSecretStore({
      [SECRET_NAMES.clientSecretName]: sandbox.credentials.clientSecret,
      [SECRET_NAMES.refreshTokenName]: sandbox.credentials.refreshToken,
    }),
    secretNames: SECRET_NAMES,
    logger,
    retry,
    persistDelayMs: 5,
  });
  return createPartnerCenterClient({ settings, tokens, logger, retry });
}

export interface SnapshotHarness {
  sandbox: Sandbox;
  client: PartnerCenterClient;
  store: Awaited<ReturnType<typeof newStore>>;
  logger: ReturnType<typeof memoryLogger>;
  deps(overrides?: Partial<SnapshotDependencies>): SnapshotDependencies;
  close(): Promise<void>;
}

/** A sandbox with a frozen clock (so every read sees the same usage), its client, and a fresh store. */
export async function startSnapshotHarness(options: SandboxOptions = {}): Promise<SnapshotHarness> {
  const sandbox = await startSandbox({
    customers: 20,
    now: '2025-03-15T12:00:00Z',
    freezeClock: true,
    ...options,
  });
  const logger = memoryLogger();
  const client = clientFor(sandbox, logger);
  const store = await newStore();
  return {
    sandbox,
    client,
    store,
    logger,
    deps: (overrides = {}) => ({
      partnerCenter: client,
      store,
      logger,
      settings: { timeBudgetMs: 60_000, customerConcurrency: 8 },
      leaseTtlMs: 5_000,
      ...overrides,
    }),
    close: () => sandbox.close(),
  };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export const events = (lines: string[], name: string) => lines.filter((l) => l.includes(`event=${name}`));
