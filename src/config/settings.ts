import { CronExpressionParser } from 'cron-parser';
import { GUID } from '../domain/patterns';

/**
 * Every setting the app reads, in one table. The loader, the README's configuration table, the
 * infra tests (every required setting is provisioned, nothing unknown is) and the local host all
 * read this list, so it cannot drift from what the code uses.
 */
export interface SettingSpec {
  name: string;
  description: string;
  /** Value used when the setting is absent. Absent and no default: required (unless `optional`). */
  default?: string;
  example: string;
  /** What a valid value looks like, quoted in error messages. */
  expects: string;
  optional?: boolean;
  /** Only meaningful on a developer machine (local secrets, Azurite); never provisioned in Azure. */
  localOnly?: boolean;
  /** Must be kept out of logs; never printed. */
  secret?: boolean;
  validate: (raw: string) => string | undefined;
}

/** Settings the Functions host itself reads. The app never does; infra provisions them. */
export const HOST_SETTINGS = [
  'AzureWebJobsStorage',
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  // Read by Node itself when the worker starts (infra/app/node-options.txt: V8's heap bounds).
  'NODE_OPTIONS',
] as const;

/**
 * Variables the App Service platform sets on every instance of a Functions app, on every plan
 * (Flex Consumption included); Core Tools and `npm start` set neither. Either one present means
 * the app runs in Azure: it then authenticates with its user-assigned managed identity only.
 */
export const AZURE_PLATFORM_MARKERS = ['WEBSITE_INSTANCE_ID', 'WEBSITE_SITE_NAME'] as const;

/** Whether `env` is an Azure Functions instance (see AZURE_PLATFORM_MARKERS). */
export function runsInAzure(env: Env): boolean {
  return AZURE_PLATFORM_MARKERS.some((name) => (env[name] ?? '') !== '');
}

/**
 * Whether App Service Authentication runs in front of the app: the platform sets WEBSITE_AUTH_ENABLED
 * to True then (as Microsoft.Identity.Web reads it), and only then sets the x-ms-client-principal-*
 * headers itself, dropping any a client sent.
 */
export function platformAuthenticationEnabled(env: Env): boolean {
  return (env.WEBSITE_AUTH_ENABLED ?? '').toLowerCase() === 'true';
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function endpoint(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === 'http:') return 'uses http:// for a host that is not loopback';
  return `has protocol ${url.protocol}`;
}

const guid = (raw: string) => (GUID.test(raw) ? undefined : 'is not a GUID');
const nonEmpty = (raw: string) => (raw.trim() === '' ? 'is empty' : undefined);
const secretName = (raw: string) =>
  /^[0-9a-zA-Z-]{1,127}$/.test(raw) ? undefined : 'is not a Key Vault secret name (1-127 of 0-9 a-z A-Z -)';
const positiveInt =
  (max: number) =>
  (raw: string): string | undefined =>
    /^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= max
      ? undefined
      : `is not a whole number 1-${max}`;

export function ncrontab(raw: string): string | undefined {
  if (raw.trim().split(/\s+/).length !== 6) return 'is not a six-field NCRONTAB expression';
  try {
    CronExpressionParser.parse(raw, { tz: 'UTC' });
    return undefined;
  } catch {
    return 'is not a valid NCRONTAB expression';
  }
}

/** A queue name whose `-poison` twin (7 more characters) is a valid queue name too. */
function queueName(raw: string): string | undefined {
  return /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,54}[a-z0-9]$/.test(raw) ? undefined : 'is not a valid queue name';
}

function tableNamePrefix(raw: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(raw)
    ? undefined
    : 'is not 1-40 letters and digits starting with a letter';
}

export const SETTINGS: readonly SettingSpec[] = [
  {
    name: 'PARTNER_CENTER_BASE_URL',
    description: 'Partner Center REST API base URL (other clouds, or the local sandbox).',
    default: 'https://api.partnercenter.microsoft.com',
    example: 'http://127.0.0.1:7072',
    expects: 'an https:// URL (http:// only for loopback hosts)',
    validate: endpoint,
  },
  {
    name: 'PARTNER_CENTER_AUTHORITY_HOST',
    description: 'Entra ID authority host used for the refresh-token grant.',
    default: 'https://login.microsoftonline.com',
    example: 'http://127.0.0.1:7072',
    expects: 'an https:// URL (http:// only for loopback hosts)',
    validate: endpoint,
  },
  {
    name: 'PARTNER_CENTER_TENANT_ID',
    description: "The partner's own Entra tenant id.",
    example: '8f3b6a2e-1c4d-4e5f-9a0b-1c2d3e4f5a6b',
    expects: 'a GUID',
    validate: guid,
  },
  {
    name: 'PARTNER_CENTER_CLIENT_ID',
    description: 'Application (client) id of the Partner Center app registration.',
    example: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
    expects: 'a GUID',
    validate: guid,
  },
  {
    name: 'PARTNER_CENTER_SCOPE',
    description: 'OAuth scope requested on the refresh-token grant.',
    default: 'https://api.partnercenter.microsoft.com/user_impersonation offline_access',
    example: 'https://api.partnercenter.microsoft.com/user_impersonation offline_access',
    expects: 'a space-separated list of scopes',
    validate: nonEmpty,
  },
  {
    name: 'PARTNER_CENTER_REQUESTS_PER_MINUTE',
    description: 'Client-side rate limit for Partner Center calls (all calls of one process).',
    default: '300',
    example: '300',
    expects: 'a whole number 1-100000',
    validate: positiveInt(100000),
  },
  {
    name: 'PARTNER_CENTER_MAX_CONCURRENCY',
    description: 'Most Partner Center requests in flight at once.',
    default: '4',
    example: '4',
    expects: 'a whole number 1-64',
    validate: positiveInt(64),
  },
  {
    name: 'PARTNER_CENTER_TIMEOUT_SECONDS',
    description: 'Timeout of one Partner Center request.',
    default: '60',
    example: '60',
    expects: 'a whole number 1-600',
    validate: positiveInt(600),
  },
  {
    name: 'PARTNER_CENTER_MAX_RETRIES',
    description: 'Retries of one request after 429, 5xx or a network error.',
    default: '5',
    example: '5',
    expects: 'a whole number 1-20',
    validate: positiveInt(20),
  },
  {
    name: 'GRAPH_BASE_URL',
    description:
      'Microsoft Graph base URL for the daily usage export (the local sandbox serves it too). Tokens come from PARTNER_CENTER_AUTHORITY_HOST.',
    default: 'https://graph.microsoft.com',
    example: 'http://127.0.0.1:7072',
    expects: 'an https:// URL (http:// only for loopback hosts)',
    validate: endpoint,
  },
  {
    name: 'KEY_VAULT_URI',
    description: 'Key Vault holding the Partner Center secrets. Unset: secrets come from local settings.',
    optional: true,
    example: 'https://kv-usage-prod.vault.azure.net/',
    expects: 'an https:// URL (http:// only for loopback hosts)',
    validate: endpoint,
  },
  {
    name: 'PARTNER_CENTER_CLIENT_SECRET_NAME',
    description: 'Name of the secret holding the app registration client secret.',
    default: 'partner-center-client-secret',
    example: 'partner-center-client-secret',
    expects: 'a Key Vault secret name',
    validate: secretName,
  },
  {
    name: 'PARTNER_CENTER_REFRESH_TOKEN_NAME',
    description: 'Name of the secret holding the rotating refresh token.',
    default: 'partner-center-refresh-token',
    example: 'partner-center-refresh-token',
    expects: 'a Key Vault secret name',
    validate: secretName,
  },
  {
    name: 'CONTINUATION_TOKEN_KEY_NAME',
    description:
      'Name of the secret holding the continuation-token signing keys (created on first use when missing).',
    default: 'continuation-token-key',
    example: 'continuation-token-key',
    expects: 'a Key Vault secret name',
    validate: secretName,
  },
  {
    name: 'PARTNER_CENTER_CLIENT_SECRET',
    description: 'Local development only, when KEY_VAULT_URI is unset: the client secret.',
    optional: true,
    localOnly: true,
    secret: true,
    example: 'sandbox-client-secret',
    expects: 'a non-empty string',
    validate: nonEmpty,
  },
  {
    name: 'PARTNER_CENTER_REFRESH_TOKEN',
    description: 'Local development only, when KEY_VAULT_URI is unset: the initial refresh token.',
    optional: true,
    localOnly: true,
    secret: true,
    example: 'sandbox-refresh-token',
    expects: 'a non-empty string',
    validate: nonEmpty,
  },
  {
    name: 'SECRET_CACHE_SECONDS',
    description: 'How long secret values read from the secret store are cached.',
    default: '300',
    example: '300',
    expects: 'a whole number 1-86400',
    validate: positiveInt(86400),
  },
  {
    name: 'STORAGE_CONNECTION_STRING',
    description: 'Usage tables by connection string (Azurite, local). Set this or STORAGE_TABLE_ENDPOINT.',
    optional: true,
    localOnly: true,
    secret: true,
    example: 'UseDevelopmentStorage=true',
    expects: 'a storage connection string',
    validate: nonEmpty,
  },
  {
    name: 'STORAGE_TABLE_ENDPOINT',
    description: 'Usage tables by managed identity (Azure). Set this or STORAGE_CONNECTION_STRING.',
    optional: true,
    example: 'https://stusageprod.table.core.windows.net',
    expects: 'an https:// URL (http:// only for loopback hosts)',
    validate: endpoint,
  },
  {
    name: 'STORAGE_TIMEOUT_SECONDS',
    description: 'Timeout of one attempt of a Table Storage request, sent to fully answered; retried once.',
    default: '45',
    example: '45',
    expects: 'a whole number 1-600',
    validate: positiveInt(600),
  },
  {
    name: 'QUEUE_STORAGE',
    description:
      'Storage queues by connection string (Azurite, local): the queue trigger and POST /api/v1/snapshots. Set this or QUEUE_STORAGE__queueServiceUri; neither: a requested run waits for the resume timer.',
    optional: true,
    localOnly: true,
    secret: true,
    example: 'UseDevelopmentStorage=true',
    expects: 'a storage connection string',
    validate: nonEmpty,
  },
  {
    name: 'QUEUE_STORAGE__queueServiceUri',
    description: 'Storage queues by managed identity (Azure). Set this or QUEUE_STORAGE.',
    optional: true,
    example: 'https://stusageprod.queue.core.windows.net',
    expects: 'an https:// URL (http:// only for loopback hosts)',
    validate: endpoint,
  },
  {
    name: 'QUEUE_STORAGE__credential',
    description: 'With QUEUE_STORAGE__queueServiceUri: how the Functions host signs in to the queues.',
    optional: true,
    example: 'managedidentity',
    expects: 'managedidentity',
    validate: (raw) => (raw === 'managedidentity' ? undefined : 'is not managedidentity'),
  },
  {
    name: 'QUEUE_STORAGE__clientId',
    description:
      "With QUEUE_STORAGE__queueServiceUri: the client id of the identity the host uses for the queues (the app's AZURE_CLIENT_ID).",
    optional: true,
    example: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
    expects: 'a GUID',
    validate: guid,
  },
  {
    name: 'SNAPSHOT_REQUEST_QUEUE',
    description:
      'Queue on which POST /api/v1/snapshots asks for a run; its trigger starts the run at once (failures: <name>-poison).',
    default: 'snapshot-requests',
    example: 'snapshot-requests',
    expects: '3-56 lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
    validate: queueName,
  },
  {
    name: 'AZURE_CLIENT_ID',
    description:
      'Client id of the user-assigned managed identity for storage and Key Vault. Required in Azure.',
    optional: true,
    example: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d',
    expects: 'a GUID',
    validate: guid,
  },
  {
    name: 'TABLE_NAME_PREFIX',
    description: "Prefix of the app's table names (lets several deployments or tests share an account).",
    default: 'usage',
    example: 'usage',
    expects: '1-40 letters and digits starting with a letter',
    validate: tableNamePrefix,
  },
  {
    name: 'SNAPSHOT_SCHEDULE',
    description: 'When a new snapshot run starts (six-field NCRONTAB, UTC).',
    default: '0 0 */6 * * *',
    example: '0 0 */6 * * *',
    expects: 'a six-field NCRONTAB expression',
    validate: ncrontab,
  },
  {
    name: 'SNAPSHOT_RESUME_SCHEDULE',
    description: 'How often an unfinished or requested snapshot run is picked up and continued.',
    default: '0 */5 * * * *',
    example: '0 */5 * * * *',
    expects: 'a six-field NCRONTAB expression',
    validate: ncrontab,
  },
  {
    name: 'SNAPSHOT_TIME_BUDGET_SECONDS',
    description: 'Work time one invocation gives a run before checkpointing and yielding.',
    default: '1500',
    example: '1500',
    expects: 'a whole number 1-86400',
    validate: positiveInt(86400),
  },
  {
    name: 'SNAPSHOT_CUSTOMER_CONCURRENCY',
    description: 'Customers snapshotted in parallel within one run.',
    default: '4',
    example: '4',
    expects: 'a whole number 1-64',
    validate: positiveInt(64),
  },
  {
    name: 'SNAPSHOT_MODE',
    description:
      'incremental: read only customers whose monthly record moved since their last snapshot, or whose detail is older than SNAPSHOT_FULL_REFRESH_HOURS or of a past billing period; carry the rest over. full: read all.',
    default: 'incremental',
    example: 'incremental',
    expects: 'incremental or full',
    validate: (raw) =>
      raw === 'incremental' || raw === 'full' ? undefined : 'is neither incremental nor full',
  },
  {
    name: 'SNAPSHOT_FULL_REFRESH_HOURS',
    description: "An incremental run reads a customer's detail again once it is this old, moved or not.",
    default: '24',
    example: '24',
    expects: 'a whole number 1-8760',
    validate: positiveInt(8760),
  },
  {
    name: 'RETENTION_SCHEDULE',
    description: 'When history older than RETENTION_DAYS is deleted (six-field NCRONTAB, UTC).',
    default: '0 30 2 * * *',
    example: '0 30 2 * * *',
    expects: 'a six-field NCRONTAB expression',
    validate: ncrontab,
  },
  {
    name: 'RETENTION_DAYS',
    description: 'Days of snapshot history kept.',
    default: '400',
    example: '400',
    expects: 'a whole number 1-36500',
    validate: positiveInt(36500),
  },
  {
    name: 'USAGE_EXPORT_SCHEDULE',
    description:
      "When the usage export starts the current period's unbilled export, and the previous period's while it is not billed (six-field NCRONTAB, UTC).",
    default: '0 0 4 * * *',
    example: '0 0 4 * * *',
    expects: 'a six-field NCRONTAB expression',
    validate: ncrontab,
  },
  {
    name: 'USAGE_EXPORT_POLL_SCHEDULE',
    description:
      'How often running usage exports are asked about (one request each, no waiting), expired ones started again and lost merge messages sent again.',
    default: '0 */5 * * * *',
    example: '0 */5 * * * *',
    expects: 'a six-field NCRONTAB expression',
    validate: ncrontab,
  },
  {
    name: 'USAGE_EXPORT_QUEUE',
    description:
      'Queue of usage export work: one message per blob, then the merge; its trigger processes them (failures: <name>-poison).',
    default: 'usage-export',
    example: 'usage-export',
    expects: '3-56 lowercase letters, digits and single hyphens, starting and ending with a letter or digit',
    validate: queueName,
  },
  {
    name: 'USAGE_EXPORT_CURRENCY',
    description: 'Currency (ISO 4217) the unbilled usage exports are requested in.',
    default: 'USD',
    example: 'EUR',
    expects: 'a three-letter ISO 4217 code',
    validate: (raw) => (/^[A-Z]{3}$/.test(raw) ? undefined : 'is not three capital letters'),
  },
  {
    name: 'STALE_AFTER_MINUTES',
    description: 'Age after which API responses say stale: true.',
    default: '720',
    example: '720',
    expects: 'a whole number 1-525600',
    validate: positiveInt(525600),
  },
];

export interface Settings {
  partnerCenter: {
    baseUrl: string;
    authorityHost: string;
    tenantId: string;
    clientId: string;
    scope: string;
    requestsPerMinute: number;
    maxConcurrency: number;
    timeoutMs: number;
    maxRetries: number;
  };
  /** Microsoft Graph (the usage export); timeouts, retries and pacing follow partnerCenter's. */
  graph: { baseUrl: string };
  secrets: {
    keyVaultUri?: string;
    clientSecretName: string;
    refreshTokenName: string;
    continuationTokenKeyName: string;
    /** Local values, used only when keyVaultUri is unset. */
    localClientSecret?: string;
    localRefreshToken?: string;
    cacheMs: number;
  };
  storage: (
    { kind: 'connectionString'; connectionString: string } | { kind: 'endpoint'; tableEndpoint: string }
  ) & { tablePrefix: string; requestTimeoutMs: number };
  /**
   * The Storage queues (QUEUE_STORAGE, the connection the queue trigger names). Undefined when
   * neither form is set: a requested run then waits for the resume timer.
   */
  queues?:
    { kind: 'connectionString'; connectionString: string } | { kind: 'endpoint'; queueServiceUri: string };
  /** The queue a requested run's message goes to (and the trigger reads). */
  snapshotRequestQueue: string;
  /**
   * How the app signs in to Table Storage and Key Vault: in Azure, its user-assigned managed
   * identity (AZURE_CLIENT_ID); elsewhere a developer's credentials (Azure CLI, azd, VS Code).
   */
  identity: { kind: 'managedIdentity'; clientId: string } | { kind: 'developer'; clientId?: string };
  snapshot: {
    schedule: string;
    resumeSchedule: string;
    timeBudgetMs: number;
    customerConcurrency: number;
    mode: 'incremental' | 'full';
    fullRefreshMs: number;
  };
  retention: { schedule: string; days: number };
  usageExport: { schedule: string; pollSchedule: string; queue: string; currencyCode: string };
  api: { staleAfterMs: number };
}

export interface SettingProblem {
  name: string;
  problem: string;
  expects: string;
}

/** Thrown at startup with every problem at once, so an operator fixes them in one pass. */
export class ConfigurationError extends Error {
  readonly code = 'ConfigurationError';
  constructor(readonly problems: readonly SettingProblem[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  - ${p.name} ${p.problem}; expected ${p.expects}`).join('\n'),
    );
    this.name = 'ConfigurationError';
  }

  /** Every problem on one line, for a log that keeps one event per line (names, never values). */
  get summary(): string {
    return this.problems.map((p) => `${p.name} ${p.problem} (expected ${p.expects})`).join('; ');
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates every setting from `env`. Never echoes a value, only names and expectations. */
export function loadSettings(env: Env = process.env): Settings {
  const problems: SettingProblem[] = [];
  const values = new Map<string, string>();
  for (const spec of SETTINGS) {
    const raw = env[spec.name];
    if (raw === undefined || raw === '') {
      if (spec.default !== undefined) values.set(spec.name, spec.default);
      else if (!spec.optional)
        problems.push({ name: spec.name, problem: 'is missing', expects: spec.expects });
      continue;
    }
    const problem = spec.validate(raw);
    if (problem) problems.push({ name: spec.name, problem, expects: spec.expects });
    else values.set(spec.name, raw);
  }

  const get = (name: string) => values.get(name);
  const hasConn = get('STORAGE_CONNECTION_STRING') !== undefined;
  const hasEndpoint = get('STORAGE_TABLE_ENDPOINT') !== undefined;
  if (hasConn === hasEndpoint && !problems.some((p) => p.name.startsWith('STORAGE_'))) {
    problems.push({
      name: 'STORAGE_CONNECTION_STRING / STORAGE_TABLE_ENDPOINT',
      problem: hasConn ? 'are both set' : 'are both missing',
      expects: 'exactly one of them',
    });
  }
  if (get('QUEUE_STORAGE') !== undefined && get('QUEUE_STORAGE__queueServiceUri') !== undefined) {
    problems.push({
      name: 'QUEUE_STORAGE / QUEUE_STORAGE__queueServiceUri',
      problem: 'are both set',
      expects: 'at most one of them',
    });
  }
  if (get('KEY_VAULT_URI') === undefined) {
    for (const name of ['PARTNER_CENTER_CLIENT_SECRET', 'PARTNER_CENTER_REFRESH_TOKEN']) {
      if (get(name) === undefined && !problems.some((p) => p.name === name)) {
        problems.push({ name, problem: 'is missing', expects: 'a value when KEY_VAULT_URI is unset' });
      }
    }
  }
  const inAzure = runsInAzure(env);
  if (
    inAzure &&
    get('AZURE_CLIENT_ID') === undefined &&
    !problems.some((p) => p.name === 'AZURE_CLIENT_ID')
  ) {
    problems.push({
      name: 'AZURE_CLIENT_ID',
      problem: 'is missing',
      expects: "the client id of the app's user-assigned managed identity when running in Azure",
    });
  }
  if (problems.length > 0) throw new ConfigurationError(problems);

  const str = (name: string) => values.get(name) as string;
  const int = (name: string) => Number(values.get(name));
  const storage: Settings['storage'] = hasConn
    ? {
        kind: 'connectionString',
        connectionString: str('STORAGE_CONNECTION_STRING'),
        tablePrefix: str('TABLE_NAME_PREFIX'),
        requestTimeoutMs: int('STORAGE_TIMEOUT_SECONDS') * 1000,
      }
    : {
        kind: 'endpoint',
        tableEndpoint: str('STORAGE_TABLE_ENDPOINT'),
        tablePrefix: str('TABLE_NAME_PREFIX'),
        requestTimeoutMs: int('STORAGE_TIMEOUT_SECONDS') * 1000,
      };

  const queueConnection = get('QUEUE_STORAGE');
  const queueServiceUri = get('QUEUE_STORAGE__queueServiceUri');
  const queues: Settings['queues'] =
    queueConnection !== undefined
      ? { kind: 'connectionString', connectionString: queueConnection }
      : queueServiceUri !== undefined
        ? { kind: 'endpoint', queueServiceUri }
        : undefined;

  return {
    partnerCenter: {
      baseUrl: str('PARTNER_CENTER_BASE_URL').replace(/\/+$/, ''),
      authorityHost: str('PARTNER_CENTER_AUTHORITY_HOST').replace(/\/+$/, ''),
      tenantId: str('PARTNER_CENTER_TENANT_ID'),
      clientId: str('PARTNER_CENTER_CLIENT_ID'),
      scope: str('PARTNER_CENTER_SCOPE'),
      requestsPerMinute: int('PARTNER_CENTER_REQUESTS_PER_MINUTE'),
      maxConcurrency: int('PARTNER_CENTER_MAX_CONCURRENCY'),
      timeoutMs: int('PARTNER_CENTER_TIMEOUT_SECONDS') * 1000,
      maxRetries: int('PARTNER_CENTER_MAX_RETRIES'),
    },
    graph: { baseUrl: str('GRAPH_BASE_URL').replace(/\/+$/, '') },
    secrets: {
      keyVaultUri: get('KEY_VAULT_URI'),
      clientSecretName: str('PARTNER_CENTER_CLIENT_SECRET_NAME'),
      refreshTokenName: str('PARTNER_CENTER_REFRESH_TOKEN_NAME'),
      continuationTokenKeyName: str('CONTINUATION_TOKEN_KEY_NAME'),
      localClientSecret: get('PARTNER_CENTER_CLIENT_SECRET'),
      localRefreshToken: get('PARTNER_CENTER_REFRESH_TOKEN'),
      cacheMs: int('SECRET_CACHE_SECONDS') * 1000,
    },
    storage,
    queues,
    snapshotRequestQueue: str('SNAPSHOT_REQUEST_QUEUE'),
    identity: inAzure
      ? { kind: 'managedIdentity', clientId: str('AZURE_CLIENT_ID') }
      : { kind: 'developer', clientId: get('AZURE_CLIENT_ID') },
    snapshot: {
      schedule: str('SNAPSHOT_SCHEDULE'),
      resumeSchedule: str('SNAPSHOT_RESUME_SCHEDULE'),
      timeBudgetMs: int('SNAPSHOT_TIME_BUDGET_SECONDS') * 1000,
      customerConcurrency: int('SNAPSHOT_CUSTOMER_CONCURRENCY'),
      mode: str('SNAPSHOT_MODE') === 'full' ? 'full' : 'incremental',
      fullRefreshMs: int('SNAPSHOT_FULL_REFRESH_HOURS') * 3600_000,
    },
    retention: { schedule: str('RETENTION_SCHEDULE'), days: int('RETENTION_DAYS') },
    usageExport: {
      schedule: str('USAGE_EXPORT_SCHEDULE'),
      pollSchedule: str('USAGE_EXPORT_POLL_SCHEDULE'),
      queue: str('USAGE_EXPORT_QUEUE'),
      currencyCode: str('USAGE_EXPORT_CURRENCY'),
    },
    api: { staleAfterMs: int('STALE_AFTER_MINUTES') * 60_000 },
  };
}

let cached: Settings | undefined;

/** The process's settings, read once. Functions call this; tests call `loadSettings` directly. */
export function getSettings(): Settings {
  cached ??= loadSettings(process.env);
  return cached;
}

/** For tests and the local host, which change the environment before the app reads it. */
export function resetSettingsCache(): void {
  cached = undefined;
}
