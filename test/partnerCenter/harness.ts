import type { AxiosInstance } from 'axios';
import type { Settings } from '../../src/config/settings';
import { createLogger, type Logger, type LogLevel } from '../../src/observability/logger';
import { RefreshTokenProvider } from '../../src/partnerCenter/auth';
import { createPartnerCenterClient } from '../../src/partnerCenter/client';
import type { AzurePlanUsageClient, PartnerCenterClient } from '../../src/partnerCenter/partnerCenterClient';
import type { RetryPolicy } from '../../src/partnerCenter/retry';
import { createHttp } from '../../src/partnerCenter/transport';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../dev/sandbox';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import type { SecretStore } from '../../src/secrets/secretStore';

export const SECRET_NAMES = {
  clientSecretName: 'partner-center-client-secret',
  refreshTokenName: 'partner-center-refresh-token',
} as const;

/** Fast waits for everything but the one test that measures Retry-After. */
export const FAST_RETRY: Partial<RetryPolicy> = { baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 10_000 };

export function settingsFor(sandbox: Sandbox, overrides: Partial<Settings['partnerCenter']> = {}) {
  return {
    baseUrl: sandbox.baseUrl,
    authorityHost: sandbox.baseUrl,
    tenantId: sandbox.credentials.tenantId,
    clientId: sandbox.credentials.clientId,
    scope: 'https://api.partnercenter.microsoft.com/user_impersonation offline_access',
    requestsPerMinute: 100_000,
    maxConcurrency: 8,
    timeoutMs: 5_000,
    maxRetries: 3,
    ...overrides,
  } satisfies Settings['partnerCenter'];
}

/** What went over the wire, recorded by axios interceptors on the client's own HTTP instance. */
export interface Exchange {
  method: string;
  url: string;
  headers: Record<string, string>;
  sentAt: number;
  /** Request body as sent (the token endpoint's form). */
  body?: string;
  status?: number;
  /** Response body text, kept for the token endpoint only. */
  responseText?: string;
  responseHeaders?: Record<string, string>;
  answeredAt?: number;
}

export interface LogLine {
  at: number;
  level: LogLevel;
  line: string;
}

export interface Harness {
  sandbox: Sandbox;
  client: PartnerCenterClient & AzurePlanUsageClient;
  tokens: RefreshTokenProvider;
  store: SecretStore;
  logger: Logger;
  lines: LogLine[];
  exchanges: Exchange[];
  /** Exchanges with Partner Center (/v1/...), not the token endpoint. */
  pcExchanges(): Exchange[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  sandbox?: SandboxOptions;
  settings?: Partial<Settings['partnerCenter']>;
  retry?: Partial<RetryPolicy>;
  store?: SecretStore;
  /** Called with each log line as it is written (tests steer the sandbox from here). */
  onLog?: (line: LogLine) => void;
  persistDelayMs?: number;
  /** Jitter source of the client's retries. */
  random?: () => number;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const sandbox = await startSandbox({ customers: 12, ...options.sandbox });
  const lines: LogLine[] = [];
  const logger = createLogger((level, line) => {
    const entry = { at: Date.now(), level, line };
    lines.push(entry);
    options.onLog?.(entry);
  }, 'debug');
  const store =
    options.store ??
    new LocalSecretStore({
      [SECRET_NAMES.clientSecretName]: sandbox.credentials.clientSecret,
      [SECRET_NAMES.refreshTokenName]: sandbox.credentials.refreshToken,
    });
  const http = createHttp();
  const exchanges = record(http);
  const settings = settingsFor(sandbox, options.settings);
  const tokens = new RefreshTokenProvider({
    settings,
    secretStore: store,
    secretNames: SECRET_NAMES,
    logger,
    http,
    retry: FAST_RETRY,
    persistDelayMs: options.persistDelayMs ?? 5,
  });
  const client = createPartnerCenterClient({
    settings,
    tokens,
    logger,
    http,
    retry: { ...FAST_RETRY, ...options.retry },
    random: options.random,
  });
  return {
    sandbox,
    client,
    tokens,
    store,
    logger,
    lines,
    exchanges,
    pcExchanges: () => exchanges.filter((e) => new URL(e.url).pathname.startsWith('/v1/')),
    close: () => sandbox.close(),
  };
}

/** Records what goes over the wire on the client's own axios instance. */
export function record(http: AxiosInstance): Exchange[] {
  const exchanges: Exchange[] = [];
  const byConfig = new WeakMap<object, Exchange>();
  http.interceptors.request.use((config) => {
    const exchange: Exchange = {
      method: (config.method ?? 'get').toUpperCase(),
      url: config.url ?? '',
      headers: Object.fromEntries(
        Object.entries(config.headers.toJSON() as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
      sentAt: Date.now(),
      body: typeof config.data === 'string' ? config.data : undefined,
    };
    exchanges.push(exchange);
    byConfig.set(config, exchange);
    return config;
  });
  http.interceptors.response.use((response) => {
    const exchange = byConfig.get(response.config);
    if (exchange) {
      exchange.status = response.status;
      exchange.answeredAt = Date.now();
      if (exchange.url.includes('/oauth2/'))
        exchange.responseText = Buffer.from(response.data as Uint8Array).toString('utf8');
      exchange.responseHeaders = Object.fromEntries(
        Object.entries(response.headers as Record<string, unknown>).map(([k, v]) => [
          k.toLowerCase(),
          String(v),
        ]),
      );
    }
    return response;
  });
  return exchanges;
}

/** Drains an async iterable into an array. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Resolves with what `promise` rejected with; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
