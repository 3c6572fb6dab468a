import { memoryLogger } from '../../src/observability/logger';
import { CheckpointBuffer } from '../../src/snapshot/checkpointBuffer';
import { LeaseKeeper } from '../../src/snapshot/leaseKeeper';
import type { CustomerListEntry } from '../../src/domain/snapshotWriter';
import { customerRecord, newStore } from '../storage/factories';

const ZERO = {
  customersWritten: 0,
  customersFetched: 0,
  customersCarriedOver: 0,
  customersFailed: 0,
  subscriptionsWritten: 0,
  subscriptionsFailed: 0,
  resourcesWritten: 0,
};

function written(n: number): CustomerListEntry {
  return {
    record: customerRecord(n),
    takenAt: new Date('2025-03-15T12:00:00Z'),
    outcome: 'written',
    subscriptionsWritten: 2,
    resourcesWritten: 3,
    subscriptionsFailed: 0,
  };
}

async function running(options: { batch?: number; intervalMs?: number } = {}) {
  const store = await newStore();
  const run = await store.requestRun('manual');
  const acquired = await store.runs.acquireLease(run.runId, 'holder-a', 60_000);
  if (!acquired) throw new Error('lease not acquired');
  const lease = new LeaseKeeper(store.runs, acquired, {
    ttlMs: 60_000,
    logger: memoryLogger(),
    log: {},
    onLost: () => undefined,
  });
  const buffer = new CheckpointBuffer(
    store.writer,
    lease,
    run.runId,
    { ...ZERO },
    {
      batch: options.batch ?? 100,
      intervalMs: options.intervalMs ?? 60_000,
    },
  );
  return { store, run, buffer };
}

test('when 3 customers are flushed, then they are the run list rows and the run record counts them', async () => {
  const { store, run, buffer } = await running();
  for (const n of [1, 2, 3]) buffer.add(written(n));
  await buffer.flush();

  const progress = await store.writer.runProgress(run.runId);
  expect(progress.finished.size).toBe(3);
  expect(progress.totals).toEqual({
    ...ZERO,
    customersWritten: 3,
    customersFetched: 3,
    subscriptionsWritten: 6,
    resourcesWritten: 9,
  });
  expect(buffer.totals).toEqual(progress.totals);
  expect((await store.runs.getRun(run.runId))?.counts).toMatchObject(progress.totals);
});

test('when nothing waits, then a flush sends no request to Table Storage', async () => {
  const { store, buffer } = await running();
  const before = store.metrics.roundTrips;
  await buffer.flush();
  expect(store.metrics.roundTrips).toBe(before);
});

test('when a batch of 2 is waiting, then a flush is due; after it, not until the batch fills again', async () => {
  const { buffer } = await running({ batch: 2 });
  buffer.add(written(1));
  expect(buffer.due).toBe(false);
  buffer.add(written(2));
  expect(buffer.due).toBe(true);
  await buffer.flush();
  expect(buffer.due).toBe(false);
});

test('when the interval has passed since the last flush, then a flush is due whatever is waiting', async () => {
  const { buffer } = await running({ intervalMs: 30 });
  expect(buffer.due).toBe(false);
  await new Promise((r) => setTimeout(r, 40));
  expect(buffer.due).toBe(true);
});

test('when the lease was taken over, then a flush writes no list row', async () => {
  const store = await newStore();
  const run = await store.requestRun('manual');
  const acquired = await store.runs.acquireLease(run.runId, 'holder-a', 1);
  if (!acquired) throw new Error('lease not acquired');
  await new Promise((r) => setTimeout(r, 20));
  await store.runs.acquireLease(run.runId, 'holder-b', 60_000);
  const lease = new LeaseKeeper(store.runs, acquired, {
    ttlMs: 60_000,
    logger: memoryLogger(),
    log: {},
    onLost: () => undefined,
  });
  await lease.renew();
  expect(lease.lost).toBe(true);

  const buffer = new CheckpointBuffer(
    store.writer,
    lease,
    run.runId,
    { ...ZERO },
    { batch: 100, intervalMs: 60_000 },
  );
  buffer.add(written(1));
  await buffer.flush();
  expect((await store.writer.runProgress(run.runId)).finished.size).toBe(0);
});
