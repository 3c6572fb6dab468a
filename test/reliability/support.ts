import { createServer, connect, type Server, type Socket } from 'node:net';
import { odata } from '@azure/data-tables';
import type { Settings } from '../../src/config/settings';
import { azuriteConnectionString as connectionStringFor } from '../../dev/localHost/azurite';
import { createLogger, type Logger, type LogLevel } from '../../src/observability/logger';
import { RefreshTokenProvider, type TokenProvider } from '../../src/partnerCenter/auth';
import { createPartnerCenterClient } from '../../src/partnerCenter/client';
import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import type { RetryPolicy } from '../../src/partnerCenter/retry';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../dev/sandbox';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import type { SecretStore } from '../../src/secrets/secretStore';
import { startScheduledRun, type SnapshotDependencies } from '../../src/snapshot/runSnapshot';
import { runListPartition } from '../../src/storage/keys';
import type { TableClients } from '../../src/storage/tableClients';
import { createUsageStore, type UsageStore, type UsageStoreOptions } from '../../src/storage/tableUsageStore';
import type { HistoryPoint, UsageReader } from '../../src/domain/usageReader';
import type { RunRecord } from '../../src/domain/runs';
import { FAST_RETRY, SECRET_NAMES, settingsFor } from '../partnerCenter/harness';
import {
  captureReads,
  collect,
  expectCustomerMatchesPartnerCenter,
  expectStoreMatchesPartnerCenter,
  expectWholeSnapshots,
  finishedRun,
  mapConcurrently,
  type ReadCapture,
} from '../snapshot/support';

export { finishedRun };
import { azuriteConnectionString, testTables, uniqueTablePrefix } from '../support/tables';

export const TOKEN_ROUTE = 'POST /{tenant}/oauth2/v2.0/token';
export const HOUR = 3600_000;
/** Mid-month on a whole hour: moving the clock by hours never leaves the billing period. */
export const START = '2025-03-10T00:00:00Z';

export type Store = UsageStore & { tables: TableClients; prefix: string };

export interface LogLine {
  level: LogLevel;
  line: string;
}

/** Partner Center client settings of every run here: paced loosely, short timeouts, retried as in production. */
export const RUN_SETTINGS: Partial<Settings['partnerCenter']> = {
  requestsPerMinute: 100_000,
  maxConcurrency: 16,
  timeoutMs: 3_000,
  maxRetries: 4,
};

/** A new "process": its own token provider (reading the shared secret store) and client. */
export interface ProcessClient {
  client: SnapshotPartnerCenter;
  tokens: RefreshTokenProvider;
}

export interface ReliabilityHarness {
  sandbox: Sandbox;
  store: Store;
  secrets: SecretStore;
  logger: Logger;
  lines: LogLine[];
  /** Calls `listener` with every log line as it is written (tests steer faults from here); returns its removal. */
  onLine(listener: (line: LogLine) => void): () => void;
  /** Reads Partner Center as it is, with a fixed access token; call it with faults cleared. */
  truth: SnapshotPartnerCenter;
  newClient(options?: {
    settings?: Partial<Settings['partnerCenter']>;
    retry?: Partial<RetryPolicy>;
    /** The token provider's clock (cache expiry, spacing of write retries); default Date.now. */
    now?: () => number;
  }): ProcessClient;
  deps(client: SnapshotPartnerCenter, overrides?: Partial<SnapshotDependencies>): SnapshotDependencies;
  close(): Promise<void>;
}

export interface ReliabilityOptions {
  sandbox?: SandboxOptions;
  /** Default: a LocalSecretStore seeded with the sandbox's credentials, shared by every client. */
  secrets?: (sandbox: Sandbox) => Promise<SecretStore>;
  /** Default: the shared test Azurite. */
  connectionString?: string;
  /** Timeout of one Table request (STORAGE_TIMEOUT_SECONDS); default 45 s. */
  storageTimeoutMs?: number;
}

/**
 * A sandbox (frozen clock), a store over fresh tables, and a secret store shared by every client
 * the test builds, as Key Vault is shared by every process of the app. Each run gets a new client
 * (a new process), so token and limiter state never leak from one case into the next.
 */
export async function startReliabilityHarness(options: ReliabilityOptions = {}): Promise<ReliabilityHarness> {
  const sandbox = await startSandbox({
    customers: 16,
    seed: 9,
    now: START,
    freezeClock: true,
    ...options.sandbox,
  });
  const lines: LogLine[] = [];
  const listeners: Array<(line: LogLine) => void> = [];
  const logger = createLogger((level, line) => {
    const entry = { level, line };
    lines.push(entry);
    for (const listener of listeners) listener(entry);
  }, 'info');
  const secrets =
    (await options.secrets?.(sandbox)) ??
    new LocalSecretStore({
      [SECRET_NAMES.clientSecretName]: sandbox.credentials.clientSecret,
      [SECRET_NAMES.refreshTokenName]: sandbox.credentials.refreshToken,
    });
  const store = await storeOver(options.connectionString ?? azuriteConnectionString(), {
    requestTimeoutMs: options.storageTimeoutMs,
  });
  const truth = createPartnerCenterClient({
    settings: settingsFor(sandbox, { maxConcurrency: 16 }),
    tokens: fixedTokens(sandbox),
    logger: createLogger(() => undefined),
    retry: FAST_RETRY,
  });
  return {
    sandbox,
    store,
    secrets,
    logger,
    lines,
    onLine: (listener) => {
      listeners.push(listener);
      return () => listeners.splice(listeners.indexOf(listener), 1);
    },
    truth,
    newClient: (o = {}) => {
      const settings = settingsFor(sandbox, { ...RUN_SETTINGS, ...o.settings });
      const tokens = new RefreshTokenProvider({
        settings,
        secretStore: secrets,
        secretNames: SECRET_NAMES,
        logger,
        retry: FAST_RETRY,
        persistDelayMs: 5,
        now: o.now,
      });
      const client = createPartnerCenterClient({
        settings,
        tokens,
        logger,
        retry: { ...FAST_RETRY, ...o.retry },
      });
      return { client, tokens };
    },
    deps: (client, overrides = {}) => ({
      partnerCenter: client,
      store,
      logger,
      // Full runs: these scenarios count which customers a resumed invocation asks Partner Center
      // about again; an incremental one would carry over those the cut-off invocation committed.
      settings: { timeBudgetMs: 60_000, customerConcurrency: 6, mode: 'full' },
      leaseTtlMs: 3_000,
      checkpointIntervalMs: 200,
      ...overrides,
    }),
    close: () => sandbox.close(),
  };
}

/**
 * A store over fresh tables reached with `connectionString`. The Table SDK retries a failed request
 * 3 times over about 7 s by default; here twice within 0.3 s, so a storage outage shows quickly.
 */
export async function storeOver(
  connectionString: string,
  options: UsageStoreOptions & { requestTimeoutMs?: number } = {},
  prefix = uniqueTablePrefix('rl'),
): Promise<Store> {
  // The app's own client builder (its request timeout included), with a short back-off.
  const tables = testTables({
    connectionString,
    tablePrefix: prefix,
    requestTimeoutMs: options.requestTimeoutMs,
    retryOptions: { maxRetries: 2, retryDelayInMs: 50, maxRetryDelayInMs: 200 },
  });
  const store = createUsageStore(tables, options);
  await store.ensureTables();
  return Object.assign(store, { tables, prefix });
}

/** Bearer tokens straight from the sandbox: no grant, no rotation, nothing counted as a refresh. */
function fixedTokens(sandbox: Sandbox): TokenProvider {
  let token: string | undefined;
  return {
    getAccessToken: async () => (token ??= sandbox.issueAccessToken({ lifetimeSeconds: 10 * 365 * 86_400 })),
    invalidate: () => {
      token = undefined;
    },
  };
}

export const events = (lines: readonly LogLine[], name: string) =>
  lines.filter((l) => l.line.startsWith(`event=${name}`));

/** Counts of one sandbox route by status since `before` (a counters snapshot). */
export function requestsSince(
  sandbox: Sandbox,
  before: ReturnType<Sandbox['counters']['snapshot']>,
  route: string,
): Record<string, number> {
  const now = sandbox.counters.snapshot().requests[route] ?? {};
  const then = before.requests[route] ?? {};
  return Object.fromEntries(
    Object.entries(now)
      .map(([status, n]) => [status, n - (then[status] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}

/** Sum over every route of the answers with `status` (e.g. "401", "429", "reset"). */
export function answersWith(counters: ReturnType<Sandbox['counters']['snapshot']>, status: string): number {
  return Object.values(counters.requests).reduce((sum, byStatus) => sum + (byStatus[status] ?? 0), 0);
}

/**
 * A reader over the store's tables as a new API process has it: nothing remembered yet (the reader
 * may remember which run's list is current for a few seconds, so a long-lived one can lag behind).
 */
export const readerOf = (store: Store): UsageReader => createUsageStore(store.tables);

/** Every read of the cache as it is now: the baseline each poll is held against. */
export const captureAll = (store: Store) =>
  captureReads(readerOf(store), { customers: Number.MAX_SAFE_INTEGER });

/** Runs `work` while a reader polls the cache; returns its result and every complete poll. */
export async function whileReading<T>(
  store: Store,
  work: () => Promise<T>,
): Promise<{ result: T; polls: ReadCapture[]; failedPolls: number }> {
  const polls: ReadCapture[] = [];
  const reader = readerOf(store);
  let failedPolls = 0;
  let done = false;
  const polling = (async () => {
    while (!done) {
      try {
        polls.push(await captureReads(reader, { customers: 8 }));
        await new Promise((r) => setTimeout(r, 40));
      } catch {
        // Storage down: the reader gets an error, which is not a half-written snapshot.
        failedPolls++;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  try {
    return { result: await work(), polls, failedPolls };
  } finally {
    done = true;
    await polling;
  }
}

export interface ListRow {
  customerId: string;
  outcome: 'written' | 'failed';
  failureCode?: string;
  failureStatus?: number;
  failureMessage?: string;
}

/** The run's customers list partition (its checkpoint), as stored. */
export async function runListRows(store: Store, runId: string): Promise<ListRow[]> {
  const rows: ListRow[] = [];
  const entities = store.tables.table('CustomerLists').listEntities<Record<string, unknown>>({
    queryOptions: { filter: odata`PartitionKey eq ${runListPartition(runId)}` },
  });
  for await (const row of entities)
    rows.push({
      customerId: String(row.customerId),
      outcome: row.outcome === 'failed' ? 'failed' : 'written',
      failureCode: row.failureCode === undefined ? undefined : String(row.failureCode),
      failureStatus: typeof row.failureStatus === 'number' ? row.failureStatus : undefined,
      failureMessage: row.failureMessage === undefined ? undefined : String(row.failureMessage),
    });
  return rows;
}

/**
 * No finished customer lost or duplicated: the run's list partition holds each customer at most
 * once (exactly once when `complete`), its counts match the stored run record, every customer it
 * wrote is served from this run's view and matches Partner Center field for field, and every
 * customer it failed still shows its previous view (`before`). Call with faults cleared.
 */
export async function auditRun(
  h: ReliabilityHarness,
  run: RunRecord,
  options: { before: ReadCapture; complete: boolean },
): Promise<{ written: ListRow[]; failed: ListRow[] }> {
  const rows = await runListRows(h.store, run.runId);
  const ids = rows.map((r) => r.customerId);
  expect(new Set(ids).size).toBe(ids.length);
  const expected = (await collect(h.truth.listCustomerUsageRecords())).map((c) => c.customerId).sort();
  if (options.complete) expect([...ids].sort()).toEqual(expected);
  else for (const id of ids) expect(expected).toContain(id);

  const written = rows.filter((r) => r.outcome === 'written');
  const failed = rows.filter((r) => r.outcome === 'failed');
  const stored = await h.store.runs.getRun(run.runId);
  expect(stored).toMatchObject({
    state: run.state,
    counts: { customersWritten: written.length, customersFailed: failed.length },
  });
  await mapConcurrently(written, 8, async (row) => {
    const view = await h.store.getCustomer(row.customerId);
    if (view.status !== 'found') throw new Error(`customer ${row.customerId} is ${view.status}`);
    expect(view.value.snapshot.runId).toBe(run.runId);
    await expectCustomerMatchesPartnerCenter(h.store, h.truth, row.customerId);
    // One history point per run, for the customer and for each subscription, even when redone.
    expect(await historyOf(h.store, run.runId, row.customerId)).toHaveLength(1);
    for (const s of view.value.subscriptions)
      expect(await historyOf(h.store, run.runId, row.customerId, s.subscriptionId)).toHaveLength(1);
  });
  await mapConcurrently(failed, 8, async (row) => {
    const view = await h.store.getCustomer(row.customerId);
    expect(view.status === 'found' && view.value.snapshot.runId).not.toBe(run.runId);
    const previous = options.before.views.get(row.customerId);
    if (previous !== undefined) expect(JSON.stringify(view)).toBe(previous);
  });
  return { written, failed };
}

/** The history points run `runId` left for a customer (or one of its subscriptions). */
async function historyOf(
  store: Store,
  runId: string,
  customerId: string,
  subscriptionId?: string,
): Promise<HistoryPoint[]> {
  const query = { limit: 1000 };
  const page =
    subscriptionId === undefined
      ? await store.customerHistory(customerId, query)
      : await store.subscriptionHistory(customerId, subscriptionId, query);
  if (page.status !== 'found') throw new Error(`history of ${customerId} is ${page.status}`);
  return page.value.items.filter((p) => p.runId === runId);
}

/**
 * A run cut off after some customers were checkpointed, then resumed by a second invocation: it
 * succeeded with every customer written, Partner Center was asked again only for the customers
 * not checkpointed (`refetched`: usage-summary requests of the resumed invocation), nothing was
 * lost or duplicated, no lease is left, and readers only ever saw whole snapshots.
 */
export async function expectResumedRunComplete(
  h: ReliabilityHarness,
  run: RunRecord,
  observed: {
    runId: string | undefined;
    checkpointed: number;
    refetched: Record<string, number>;
    before: ReadCapture;
    after: ReadCapture;
    polls: readonly ReadCapture[];
  },
): Promise<void> {
  const customers = h.sandbox.data.customerCount;
  expect(run).toMatchObject({
    runId: observed.runId,
    state: 'succeeded',
    invocations: 2,
    counts: { customersWritten: customers, customersFailed: 0 },
  });
  expect(Object.values(observed.refetched).reduce((a, b) => a + b, 0)).toBe(
    customers - observed.checkpointed,
  );
  await auditRun(h, run, { before: observed.before, complete: true });
  expect(await h.store.runs.activeRun()).toBeUndefined();
  expectWholeSnapshots(observed.polls, observed.before, observed.after);
}

/**
 * The next run completes: faults and limits cleared, usage moved on six hours, a new process runs
 * a snapshot that succeeds, and the store then matches Partner Center field for field.
 */
export async function expectNextRunCompletes(h: ReliabilityHarness): Promise<RunRecord> {
  h.sandbox.faults.clear();
  h.sandbox.limits.set({ partnerPerMinute: 0, customerPerMinute: 0 });
  h.sandbox.clock.advance(6 * HOUR);
  const run = finishedRun(await startScheduledRun(h.deps(h.newClient().client)));
  const customers = h.sandbox.data.customerCount;
  expect(run).toMatchObject({
    state: 'succeeded',
    counts: { customersWritten: customers, customersFailed: 0 },
  });
  await expectStoreMatchesPartnerCenter(readerOf(h.store), h.truth);
  expect((await h.store.getPartnerSummary())?.snapshot.runId).toBe(run.runId);
  return run;
}

/** A first complete snapshot, so every case starts with a previous one for readers to keep seeing. */
export async function seedSnapshot(h: ReliabilityHarness): Promise<void> {
  const run = finishedRun(await startScheduledRun(h.deps(h.newClient().client)));
  expect({ state: run.state, reason: run.reason }).toEqual({ state: 'succeeded', reason: undefined });
}

/**
 * Starts a case: usage moves on six hours, so the case's run changes every amount, and what
 * readers see now (the previous complete snapshot) is captured.
 */
export async function beginCase(h: ReliabilityHarness): Promise<ReadCapture> {
  h.sandbox.clock.advance(6 * HOUR);
  return captureAll(h.store);
}

/**
 * The snapshot's store, seen through a hook called after each customer commit (the count so far);
 * tests use it to start or stop a fault part-way through a run.
 */
export function afterCommits(
  store: Store,
  hook: (committed: number) => void,
): Pick<UsageStore, 'runs' | 'writer'> {
  let committed = 0;
  const writer = new Proxy(store.writer, {
    get: (target, name) => {
      const value = Reflect.get(target, name) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (name === 'commitCustomer') hook(++committed);
        return result;
      };
    },
  });
  return { runs: store.runs, writer };
}

/** Resolves when `condition` holds, checking every `everyMs`; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 20) {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A loopback TCP proxy in front of Azurite that a test can cut (listener closed, every connection
 * destroyed: the app sees refused and reset connections, as when the storage endpoint is down),
 * stall (a black hole: connections are accepted and requests swallowed, nothing ever answers) and
 * restore on the same port. Azurite keeps running behind it, so its in-memory data survives the
 * outage the way a real storage account's does.
 */
export interface StorageProxy {
  readonly connectionString: string;
  cut(): Promise<void>;
  stall(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startStorageProxy(target: string = azuriteConnectionString()): Promise<StorageProxy> {
  const upstream = new URL(/TableEndpoint=([^;]+)/.exec(target)?.[1] ?? '');
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let stalled = false;
  let server: Server | undefined;
  let port = 0;
  const track = (socket: Socket, ...peers: Socket[]) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      clients.delete(socket);
      for (const peer of [socket, ...peers]) peer.destroy();
    });
  };
  const listen = async () => {
    const s = createServer((client) => {
      if (stalled) {
        // Swallow whatever the app sends; never connect upstream, never answer.
        track(client);
        client.resume();
        return;
      }
      const remote = connect(Number(upstream.port), upstream.hostname);
      track(client, remote);
      track(remote, client);
      clients.add(client);
      client.pipe(remote).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as { port: number }).port;
    server = s;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    const closed = new Promise<void>((resolve) => s.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  return {
    connectionString: connectionStringFor(port),
    cut: stop,
    stall: () => {
      stalled = true;
      // Open connections go quiet too: what the app sends from now on never reaches Azurite.
      for (const client of clients) {
        client.unpipe();
        client.on('data', () => undefined);
      }
    },
    restore: async () => {
      if (stalled) {
        stalled = false;
        for (const socket of sockets) socket.destroy();
      }
      if (!server) await listen();
    },
    close: stop,
  };
}
