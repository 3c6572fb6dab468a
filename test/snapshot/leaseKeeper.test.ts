import { memoryLogger } from '../../src/observability/logger';
import { LeaseKeeper } from '../../src/snapshot/leaseKeeper';
import { startStorageProxy, storeOver, waitFor } from '../reliability/support';
import { newStore } from '../storage/factories';

async function heldRun(ttlMs = 60_000) {
  const store = await newStore();
  const run = await store.requestRun('manual');
  const lease = await store.runs.acquireLease(run.runId, 'holder-a', ttlMs);
  if (!lease) throw new Error('lease not acquired');
  return { store, run, lease };
}

test('when ten renewals are asked for at once, then each waits for the one before and none finds its lease lost', async () => {
  const { store, run, lease } = await heldRun();
  let lost = 0;
  const keeper = new LeaseKeeper(store.runs, lease, {
    ttlMs: 60_000,
    logger: memoryLogger(),
    log: {},
    onLost: () => lost++,
  });
  await Promise.all(Array.from({ length: 10 }, (_, i) => keeper.renew({ counts: { customersWritten: i } })));
  expect(lost).toBe(0);
  expect(keeper.lost).toBe(false);
  expect((await store.runs.getRun(run.runId))?.counts.customersWritten).toBe(9);
});

test('when another holder takes the lapsed lease over, then the next renewal reports the loss once and nothing more is written', async () => {
  const { store, run, lease } = await heldRun(1);
  const logger = memoryLogger();
  let lost = 0;
  const keeper = new LeaseKeeper(store.runs, lease, {
    ttlMs: 60_000,
    logger,
    log: { runId: run.runId },
    onLost: () => lost++,
  });
  await new Promise((r) => setTimeout(r, 20));
  const rescuer = await store.runs.acquireLease(run.runId, 'holder-b', 60_000);
  expect(rescuer).toBeDefined();

  await keeper.renew({ counts: { customersWritten: 5 } });
  await keeper.renew({ counts: { customersWritten: 6 } });
  expect(keeper.lost).toBe(true);
  expect(lost).toBe(1);
  expect(logger.lines.filter((l) => l.includes('lease lost'))).toHaveLength(1);
  expect(await keeper.finish({ state: 'succeeded' })).toBe(false);
  const stored = await store.runs.getRun(run.runId);
  expect(stored?.state).toBe('queued');
  expect(stored?.counts.customersWritten).toBe(0);
  expect((await store.runs.activeRun())?.holder).toBe('holder-b');
});

test('when storage is unreachable under a heartbeat, then the failed renewal is logged with its error and a later beat renews again', async () => {
  const proxy = await startStorageProxy();
  try {
    const store = await storeOver(proxy.connectionString, { requestTimeoutMs: 400 });
    const run = await store.requestRun('manual');
    const lease = await store.runs.acquireLease(run.runId, 'holder-a', 3_000);
    if (!lease) throw new Error('lease not acquired');
    const logger = memoryLogger();
    const keeper = new LeaseKeeper(store.runs, lease, {
      ttlMs: 3_000,
      logger,
      log: { runId: run.runId },
      onLost: () => undefined,
    });
    const expiry = async () => (await store.runs.activeRun())?.leaseExpiresAt?.getTime() ?? 0;
    const before = await expiry();

    await proxy.cut();
    keeper.startHeartbeat();
    try {
      await waitFor(() => logger.lines.some((l) => l.includes('renewal failed')));
      await proxy.restore();
      await waitFor(async () => (await expiry()) > before);
    } finally {
      keeper.stop();
    }
    const failed = logger.lines.find((l) => l.includes('renewal failed')) ?? '';
    expect(failed).toContain(run.runId);
    expect(failed).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    expect(keeper.lost).toBe(false);
    expect(await keeper.release({ invocations: 1 })).toBe(true);
  } finally {
    await proxy.close();
  }
}, 30_000);
