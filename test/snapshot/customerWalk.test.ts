import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import { CheckpointBuffer } from '../../src/snapshot/checkpointBuffer';
import { walkCustomers, type CustomerWalkInput } from '../../src/snapshot/customerWalk';
import { LeaseKeeper } from '../../src/snapshot/leaseKeeper';
import { detailCalls, startSnapshotHarness, type SnapshotHarness } from './support';

let h: SnapshotHarness;
beforeAll(async () => {
  h = await startSnapshotHarness({ customers: 30, faults: { latencyMs: 5 } });
});
afterAll(() => h.close());

/**
 * The real client, counting customers listed and the summaries read; the walk's writer (below)
 * counts customers started (a customer starts with `beginCustomer`) and in flight.
 */
function observed(client: SnapshotPartnerCenter) {
  const seen = {
    listed: 0,
    started: 0,
    inFlight: 0,
    peakInFlight: 0,
    peakReadAhead: 0,
    summaries: [] as string[],
  };
  const partnerCenter: SnapshotPartnerCenter = {
    ...detailCalls(client),
    getPartnerUsageSummary: (o) => client.getPartnerUsageSummary(o),
    listSubscriptionUsageRecords: (id, o) => client.listSubscriptionUsageRecords(id, o),
    listResourceUsageRecords: (c, s, o) => client.listResourceUsageRecords(c, s, o),
    listCustomerUsageRecords: async function* (o) {
      for await (const record of client.listCustomerUsageRecords(o)) {
        seen.listed++;
        yield record;
      }
    },
    getCustomerUsageSummary: (id, o) => {
      seen.summaries.push(id);
      return client.getCustomerUsageSummary(id, o);
    },
  };
  return { seen, partnerCenter };
}

async function walkInput(
  overrides: Partial<CustomerWalkInput> & Pick<CustomerWalkInput, 'partnerCenter'>,
  seen?: ReturnType<typeof observed>['seen'],
) {
  const run = await h.store.requestRun('manual');
  const acquired = await h.store.runs.acquireLease(run.runId, `walk-${run.runId}`, 60_000);
  if (!acquired) throw new Error('lease not acquired');
  const lease = new LeaseKeeper(h.store.runs, acquired, {
    ttlMs: 60_000,
    logger: h.logger,
    log: {},
    onLost: () => undefined,
  });
  const progress = await h.store.writer.runProgress(run.runId);
  const stop = new AbortController();
  const writer = h.store.writer;
  const input: CustomerWalkInput = {
    writer: {
      beginCustomer: (i) => {
        if (seen) {
          seen.started++;
          seen.inFlight++;
          seen.peakInFlight = Math.max(seen.peakInFlight, seen.inFlight);
          seen.peakReadAhead = Math.max(seen.peakReadAhead, seen.listed - seen.started);
        }
        return writer.beginCustomer(i);
      },
      writeSubscription: (i) => writer.writeSubscription(i),
      carryOverCustomer: (i) => writer.carryOverCustomer(i),
      discardCustomer: (c, r) => writer.discardCustomer(c, r),
      markCustomerKnown: (c, r, t) => writer.markCustomerKnown(c, r, t),
      probe: () => writer.probe(),
      commitCustomer: (i) =>
        writer.commitCustomer(i).finally(() => {
          if (seen) seen.inFlight--;
        }),
    },
    logger: h.logger,
    log: { runId: run.runId },
    runId: run.runId,
    call: { correlationId: run.correlationId, signal: stop.signal },
    taken: progress.finished,
    checkpoints: new CheckpointBuffer(writer, lease, run.runId, progress.totals, {
      batch: 100,
      intervalMs: 60_000,
    }),
    concurrency: 3,
    deadline: Date.now() + 60_000,
    graceMs: 1_000,
    now: () => new Date(),
    stop,
    ...overrides,
  };
  const finish = async () => {
    await lease.finish({ state: 'succeeded' });
  };
  return { input, finish, run };
}

test('when 30 customers are walked 3 at a time, then at most 3 are in flight, the list is read at most one ahead, and all 30 are checkpointed once', async () => {
  const { seen, partnerCenter } = observed(h.client);
  const { input, finish, run } = await walkInput({ partnerCenter }, seen);
  const result = await walkCustomers(input);
  await input.checkpoints.flush();
  await finish();

  expect(result).toEqual({ stoppedEarly: false });
  expect(seen.peakInFlight).toBeLessThanOrEqual(3);
  expect(seen.peakInFlight).toBe(3);
  expect(seen.peakReadAhead).toBeLessThanOrEqual(1);
  expect(new Set(seen.summaries).size).toBe(30);
  expect(seen.summaries).toHaveLength(30);
  expect((await h.store.writer.runProgress(run.runId)).totals.customersWritten).toBe(30);
});

test('when every customer is taken already, then none is snapshotted and the walk completes', async () => {
  const { seen, partnerCenter } = observed(h.client);
  const { input, finish } = await walkInput({ partnerCenter });
  for await (const record of h.client.listCustomerUsageRecords())
    input.taken.take(record.customerId.toUpperCase());
  const result = await walkCustomers(input);
  await finish();
  expect(result).toEqual({ stoppedEarly: false });
  expect(seen.started).toBe(0);
});

test('when the deadline has passed, then the walk stops early without taking a customer', async () => {
  const { seen, partnerCenter } = observed(h.client);
  const { input, finish } = await walkInput({ partnerCenter, deadline: Date.now() - 1 });
  const result = await walkCustomers(input);
  await finish();
  expect(result).toEqual({ stoppedEarly: true });
  expect(seen.started).toBe(0);
  expect(input.taken.size).toBe(0);
});

test('when the walk is stopped mid-way, then in-flight customers are cancelled and not checkpointed', async () => {
  const { seen, partnerCenter } = observed(h.client);
  const { input, finish, run } = await walkInput({ partnerCenter }, seen);
  const walking = walkCustomers(input);
  while (seen.started < 5) await new Promise((r) => setTimeout(r, 2));
  input.stop.abort();
  const result = await walking;
  await input.checkpoints.flush();
  await finish();
  expect(result.listError).toBeUndefined();
  expect(result.fatal).toBeUndefined();
  const checkpointed = (await h.store.writer.runProgress(run.runId)).totals.customersWritten;
  expect(checkpointed).toBeLessThan(seen.started);
  expect(seen.started).toBeLessThan(30);
});
