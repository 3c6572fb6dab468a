import { createUsageStore, type UsageStore } from '../../../src/storage/tableUsageStore';
import type { RunRequester } from '../../../src/domain/runs';
import type { UsageReader } from '../../../src/domain/usageReader';
import { testTables, uniqueTablePrefix } from '../../support/tables';
import {
  customerOlderTotal,
  HISTORY_RUNS,
  legacyOlderTotal,
  planOlderTotal,
  populatedState,
  recordAt,
  SNAPSHOT,
} from './fixtures';
import { MemoryUsageStore, type MemoryState } from './memoryUsageStore';

/** A UsageReader the API tests run against, and how many store requests it has made so far. */
export interface Backend {
  name: string;
  store: UsageReader & RunRequester;
  /** Store-level requests so far (Table Storage round trips, or reader calls in memory). */
  requests(): number;
}

export function memoryBackend(state: MemoryState = populatedState()): Backend {
  const store = new MemoryUsageStore(state);
  return { name: 'in-memory', store, requests: () => store.reads.length };
}

/**
 * The real Table Storage adapter on the shared test Azurite, holding the same data as
 * `populatedState()`, written the way a snapshot writes it: five runs of history, run 0 current
 * (its subscription views, customer views, customers list and partner view), and the last
 * customer known but never snapshotted.
 */
export async function azuriteBackend(
  state: MemoryState = populatedState(),
): Promise<Backend & { usage: UsageStore }> {
  const tables = testTables({ tablePrefix: uniqueTablePrefix('api') });
  const usage = createUsageStore(tables);
  await usage.ensureTables();
  const run0 = HISTORY_RUNS[0];
  for (let i = HISTORY_RUNS.length - 1; i >= 0; i--) {
    const { runId, takenAt } = HISTORY_RUNS[i];
    await Promise.all(
      state.customers.map(async (c) => {
        if (c.notSnapshotted) return;
        if (i === 0) {
          for (const s of c.subscriptions) {
            await usage.writer.writeSubscription({
              runId,
              customerId: c.record.customerId,
              takenAt: new Date(takenAt),
              billingStartDate: SNAPSHOT.billingStartDate,
              billingEndDate: SNAPSHOT.billingEndDate,
              subscription: s.record,
              hasResourceBreakdown: s.record.offerId === 'MS-AZR-0145P',
              resources: s.resources,
              detail: s.detail,
            });
          }
        }
        await usage.writer.commitCustomer({
          runId,
          customerId: c.record.customerId,
          takenAt: new Date(takenAt),
          summary: c.summary && recordAt(c.summary, i, customerOlderTotal),
          record: recordAt(c.record, i, customerOlderTotal),
          subscriptions: c.subscriptions.map((s) =>
            recordAt(s.record, i, s.record.offerId === 'MS-AZR-0145P' ? legacyOlderTotal : planOlderTotal),
          ),
        });
      }),
    );
  }
  for (const c of state.customers.filter((c) => c.notSnapshotted)) {
    await usage.writer.markCustomerKnown(c.record.customerId, run0.runId, new Date(run0.takenAt));
  }
  await usage.writer.recordCustomers(
    run0.runId,
    state.customers.map((c) => ({
      record: c.record,
      takenAt: new Date(run0.takenAt),
      outcome: c.notSnapshotted ? 'failed' : 'written',
      subscriptionsWritten: c.notSnapshotted ? 0 : c.subscriptions.length,
      subscriptionsFailed: 0,
      resourcesWritten: c.notSnapshotted ? 0 : c.subscriptions.reduce((n, s) => n + s.resources.length, 0),
    })),
  );
  if (state.partner) await usage.writer.publishPartner(run0.runId, new Date(run0.takenAt), state.partner);
  return { name: 'Azurite', store: usage, usage, requests: () => usage.metrics.roundTrips };
}
