import type { BudgetStore } from '../domain/budget';
import { toRunRecord, type RunRecord, type RunRequester, type RunStore } from '../domain/runs';
import type { RetentionStore, SnapshotWriter } from '../domain/snapshotWriter';
import type { UsageReader } from '../domain/usageReader';
import { newTableMetrics, type TableMetrics } from './partitionWriter';
import { TableBudgetStore } from './tableBudgetStore';
import { TableRetentionStore } from './tableRetentionStore';
import { TableRunStore } from './tableRunStore';
import { TableSnapshotWriter } from './tableSnapshotWriter';
import type { TableClients } from './tableClients';
import { TableUsageReader } from './tableUsageReader';
import { ensureUsageTables, usageTableClients } from './usageTables';

/**
 * The Table Storage adapter, assembled: the API reads through it (UsageReader) and queues runs
 * (RunRequester); the snapshot writes through `writer` and coordinates through `runs`.
 */
export interface UsageStore extends UsageReader, RunRequester {
  runs: RunStore;
  writer: SnapshotWriter;
  retention: RetentionStore;
  /** Budget changes made through the API and their audit trail. */
  budgets: BudgetStore;
  /** Requests sent to Table Storage so far by this store. */
  metrics: TableMetrics;
  /** Creates the tables that are missing (idempotent). Call once at startup. */
  ensureTables(): Promise<void>;
}

export interface UsageStoreOptions {
  /** The adapter's clock (lease expiry, run times); tests pass a controllable one. */
  now?: () => Date;
  /** How long the reader remembers which run's customers list is current (default 10 s). */
  currentRunCacheMs?: number;
}

export function createUsageStore(tables: TableClients, options: UsageStoreOptions = {}): UsageStore {
  const now = options.now ?? (() => new Date());
  const metrics = newTableMetrics();
  const clients = usageTableClients(tables);
  const runs = new TableRunStore(clients.runs, metrics, now);
  const writer = new TableSnapshotWriter(clients, metrics);
  const reader = new TableUsageReader(clients, runs, metrics, options.currentRunCacheMs ?? 10_000, () =>
    now().getTime(),
  );
  let ensured: Promise<void> | undefined;
  const ensureTables = () => {
    ensured ??= ensureUsageTables(tables).catch((error: unknown) => {
      ensured = undefined;
      throw error;
    });
    return ensured;
  };
  const requester: RunRequester = {
    requestRun: async (trigger: RunRecord['trigger']) => {
      await ensureTables();
      return toRunRecord(await runs.createRun(trigger));
    },
  };
  const retention = new TableRetentionStore(clients, metrics);
  const budgets = new TableBudgetStore(clients.customers, metrics);
  return {
    ...afterTables(reader, ensureTables),
    ...requester,
    runs,
    writer,
    retention,
    budgets: {
      getChangedBudget: async (c) => (await ensureTables(), budgets.getChangedBudget(c)),
      begin: async (change) => (await ensureTables(), budgets.begin(change)),
      complete: (change, expected) => budgets.complete(change, expected),
      setChangedBudget: (c, budget) => budgets.setChangedBudget(c, budget),
      abandon: (change) => budgets.abandon(change),
      listChanges: async (c, q) => (await ensureTables(), budgets.listChanges(c, q)),
    },
    metrics,
    ensureTables,
  };
}

/** The API may read before any snapshot ran: the first read creates the tables (once per process). */
function afterTables(reader: UsageReader, ensureTables: () => Promise<void>): UsageReader {
  return {
    getPartnerSummary: async () => (await ensureTables(), reader.getPartnerSummary()),
    listCustomers: async (query) => (await ensureTables(), reader.listCustomers(query)),
    getCustomer: async (id) => (await ensureTables(), reader.getCustomer(id)),
    getSubscriptionResources: async (c, s) => (await ensureTables(), reader.getSubscriptionResources(c, s)),
    customerHistory: async (c, q) => (await ensureTables(), reader.customerHistory(c, q)),
    subscriptionHistory: async (c, s, q) => (await ensureTables(), reader.subscriptionHistory(c, s, q)),
    resourceGroupHistory: async (c, s, g, q) => (
      await ensureTables(),
      reader.resourceGroupHistory(c, s, g, q)
    ),
    listRuns: async (limit) => (await ensureTables(), reader.listRuns(limit)),
  };
}
