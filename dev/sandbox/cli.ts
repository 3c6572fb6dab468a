import { parseArgs } from 'node:util';
import { SANDBOX_DEFAULTS } from './defaults';
import { FAULT_KINDS, type FaultSettings } from './faults';
import type { PagedCollection, PageSizes, SandboxOptions } from './options';
import { startSandbox } from './server';

const USAGE = `Partner Center sandbox: a local Partner Center usage API and Entra ID token endpoint.

  npm run sandbox -- [options]

  --port N                          default ${SANDBOX_DEFAULTS.port} (0 picks a free port)
  --host H                          default 127.0.0.1
  --customers N                     default ${SANDBOX_DEFAULTS.customers}
  --seed S                          default ${SANDBOX_DEFAULTS.seed}
  --subscriptions-per-customer N    average, 0-50 (each customer gets 0 to 2N); default the
                                    recorded mix, about 1.7
  --page-size N                     items per collection page, default 2000
  --page-sizes C=N,...              per collection, overriding --page-size: customers,
                                    subscriptions, resources, meterUsageRecords,
                                    resourceUsageRecords, azureEntitlements
  --rate-limit-per-minute N         per partner, all calls; default off
  --customer-rate-limit-per-minute N  per partner + customer; default off
  --latency-ms N  --latency-jitter-ms N
  --fault-500 P  --fault-503 P  --fault-reset P  --fault-truncated P  --fault-malformed P  --fault-slow-body P
                                    probabilities in [0, 1]
  --slow-body-ms N                  stall of a slow body, default 2000
  --now ISO-DATE                    start the sandbox clock there
  --freeze-clock                    keep the sandbox clock still
  --usage-interval-seconds N        usage is rated up to the last whole interval, default 3600
  --access-token-lifetime-seconds N  --refresh-grace-seconds N
  --no-bom                          omit the UTF-8 byte-order mark on bodies
  --tenant-id --client-id --client-secret --refresh-token   credentials to accept

  Microsoft Graph usage export (GRAPH_BASE_URL = the same base URL):
  --graph-blob-count N              blobs per export, default 2
  --graph-lines-per-blob N          split resource-days into lines to make N lines per blob
  --graph-running-polls N           'running' answers before success, default 2
  --graph-retry-after-seconds N     Retry-After of a running operation, default 1
  --graph-sas-lifetime-seconds N    default 3600 (sandbox clock)
  --graph-manifest link|inline      default link
  --graph-reset-blob-rate P         probability a blob download is cut halfway
  --graph-cache-blobs               keep blobs read once in memory and serve them from there
`;

const FAULT_FLAGS: Record<string, keyof FaultSettings> = {
  'fault-500': 'status500',
  'fault-503': 'status503',
  'fault-reset': 'reset',
  'fault-truncated': 'truncated',
  'fault-malformed': 'malformed',
  'fault-slow-body': 'slowBody',
  'slow-body-ms': 'slowBodyMs',
  'latency-ms': 'latencyMs',
  'latency-jitter-ms': 'latencyJitterMs',
};

const GRAPH_NUMBER_FLAGS = {
  'graph-blob-count': 'blobCount',
  'graph-lines-per-blob': 'linesPerBlob',
  'graph-running-polls': 'runningPolls',
  'graph-retry-after-seconds': 'retryAfterSeconds',
  'graph-sas-lifetime-seconds': 'sasLifetimeSeconds',
} as const;

const NUMBER_FLAGS = [
  ...Object.keys(GRAPH_NUMBER_FLAGS),
  'graph-reset-blob-rate',
  'port',
  'customers',
  'seed',
  'subscriptions-per-customer',
  'page-size',
  'rate-limit-per-minute',
  'customer-rate-limit-per-minute',
  'usage-interval-seconds',
  'access-token-lifetime-seconds',
  'refresh-grace-seconds',
  ...Object.keys(FAULT_FLAGS),
];
const STRING_FLAGS = [
  'graph-manifest',
  'page-sizes',
  'host',
  'now',
  'tenant-id',
  'client-id',
  'client-secret',
  'refresh-token',
];

/** Parses the command line into sandbox options; throws with a readable message on bad input. */
export function parseCommandLine(argv: string[]): SandboxOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      ...Object.fromEntries(
        [...NUMBER_FLAGS, ...STRING_FLAGS].map((flag) => [flag, { type: 'string' as const }]),
      ),
      'freeze-clock': { type: 'boolean' },
      'no-bom': { type: 'boolean' },
      'graph-cache-blobs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const text = (flag: string) =>
    (values as Record<string, string | boolean | undefined>)[flag] as string | undefined;
  const number = (flag: string): number | undefined => {
    const raw = text(flag);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value))
      throw new Error(`--${flag} expects a number, got "${raw}"`);
    return value;
  };

  const faults: Partial<FaultSettings> = {};
  for (const [flag, key] of Object.entries(FAULT_FLAGS)) {
    const value = number(flag);
    if (value !== undefined) faults[key] = value;
  }
  const graph: NonNullable<SandboxOptions['graph']> = {};
  for (const [flag, key] of Object.entries(GRAPH_NUMBER_FLAGS)) {
    const value = number(flag);
    if (value !== undefined) graph[key] = value;
  }
  const manifest = text('graph-manifest');
  if (manifest !== undefined) {
    if (manifest !== 'link' && manifest !== 'inline')
      throw new Error(`--graph-manifest expects link or inline, got "${manifest}"`);
    graph.manifest = manifest;
  }
  if (values['graph-cache-blobs'] === true) graph.cacheBlobs = true;
  const resetBlobRate = number('graph-reset-blob-rate');
  if (resetBlobRate !== undefined) graph.faults = { resetBlobRate };
  return {
    host: text('host'),
    port: number('port') ?? SANDBOX_DEFAULTS.port,
    customers: number('customers'),
    seed: number('seed'),
    subscriptionsPerCustomer: number('subscriptions-per-customer'),
    pageSize: number('page-size'),
    pageSizes: pageSizes(text('page-sizes')),
    limits: {
      partnerPerMinute: number('rate-limit-per-minute') ?? 0,
      customerPerMinute: number('customer-rate-limit-per-minute') ?? 0,
    },
    faults,
    now: text('now'),
    freezeClock: values['freeze-clock'] === true,
    usageIntervalSeconds: number('usage-interval-seconds'),
    accessTokenLifetimeSeconds: number('access-token-lifetime-seconds'),
    refreshGraceSeconds: number('refresh-grace-seconds'),
    bom: values['no-bom'] !== true,
    tenantId: text('tenant-id'),
    clientId: text('client-id'),
    clientSecret: text('client-secret'),
    refreshToken: text('refresh-token'),
    graph,
  };
}

const PAGED: readonly PagedCollection[] = [
  'customers',
  'subscriptions',
  'resources',
  'meterUsageRecords',
  'resourceUsageRecords',
  'azureEntitlements',
];

/** "meterUsageRecords=2,azureEntitlements=1" to page sizes; range checks are resolveOptions'. */
function pageSizes(raw: string | undefined): PageSizes | undefined {
  if (raw === undefined) return undefined;
  const sizes: PageSizes = {};
  for (const pair of raw.split(',')) {
    const [name, size] = pair.split('=').map((part) => part.trim());
    if (!PAGED.includes(name as PagedCollection) || size === undefined || !/^\d+$/.test(size))
      throw new Error(`--page-sizes expects collection=N pairs (${PAGED.join(', ')}), got "${pair}"`);
    sizes[name as PagedCollection] = Number(size);
  }
  return sizes;
}

async function main(): Promise<void> {
  let options: SandboxOptions | 'help';
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const sandbox = await startSandbox(options);
  const { tenantId, clientId } = sandbox.credentials;
  // The base URL goes first and alone on its line, for scripts that read it.
  console.log(sandbox.baseUrl);
  console.log(`Partner Center sandbox: ${sandbox.data.customerCount} customers, seed ${sandbox.data.seed}`);
  console.log(
    `  PARTNER_CENTER_BASE_URL=${sandbox.baseUrl}  PARTNER_CENTER_AUTHORITY_HOST=${sandbox.baseUrl}`,
  );
  console.log(`  tenant ${tenantId}, client ${clientId}; token endpoint ${sandbox.tokenUrl}`);
  console.log(`  GRAPH_BASE_URL=${sandbox.graph.baseUrl} (usage export; blobs under /blobs/)`);
  const active = FAULT_KINDS.filter((kind) => sandbox.faults.get()[kind] > 0);
  if (active.length > 0)
    console.log(`  faults: ${active.map((k) => `${k}=${sandbox.faults.get()[k]}`).join(' ')}`);
  console.log('Ctrl-C stops it.');
  const stop = () => {
    sandbox.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
