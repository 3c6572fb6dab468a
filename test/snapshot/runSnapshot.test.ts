import type { SnapshotPartnerCenter } from '../../src/snapshot/customerSnapshot';
import {
  continueRun,
  resumeActiveRun,
  runSnapshotToCompletion,
  startScheduledRun,
} from '../../src/snapshot/runSnapshot';
import {
  collect,
  detailCalls,
  events,
  expectStoreMatchesPartnerCenter,
  finishedRun,
  startSnapshotHarness,
  storedCustomers,
  type SnapshotHarness,
} from './support';

describe('a full run of 200 customers', () => {
  let h: SnapshotHarness;
  beforeAll(async () => {
    h = await startSnapshotHarness({ customers: 200 });
  });
  afterAll(() => h.close());

  test('when a scheduled run completes, then the store matches the sandbox field for field, within 1.1× the ideal Table round trips', async () => {
    // The snapshot's data requests only: the run store's (run record, lease and its heartbeat) are
    // left out, since how many heartbeats a run needs depends on the machine's speed, not on the design.
    const dataRoundTrips = () => h.store.metrics.roundTrips - h.store.metrics.runStoreRoundTrips;
    const before = dataRoundTrips();
    const run = finishedRun(await startScheduledRun(h.deps()));
    const roundTrips = dataRoundTrips() - before;
    expect(run.state).toBe('succeeded');
    expect(run.counts.customersWritten).toBe(200);
    expect(run.counts.customersFailed).toBe(0);

    const resources = await expectStoreMatchesPartnerCenter(h.store, h.client);
    expect(run.counts.resourcesWritten).toBe(resources);
    // Ideal: per customer, one point read (which slot is free) and one transaction (its parts and
    // view flip together); one query for the run's progress, one transaction per 100 list rows, one partner flip.
    const ideal = 2 * run.counts.customersWritten + 1 + Math.ceil(200 / 100) + 1;
    console.log(
      `full run: ${roundTrips} Table round trips, ideal ${ideal} (${(roundTrips / ideal).toFixed(3)}×)`,
    );
    expect(roundTrips).toBeLessThanOrEqual(1.1 * ideal);

    const [stored] = await h.store.listRuns(1);
    expect(stored).toMatchObject({
      runId: run.runId,
      state: 'succeeded',
      trigger: 'timer',
      counts: run.counts,
    });
    expect(stored.startedAt).toBeDefined();
    expect(stored.finishedAt).toBeDefined();
    expect(events(h.logger.lines, 'SnapshotRunStarted')).toHaveLength(1);
    expect(events(h.logger.lines, 'SnapshotRunSucceeded')).toHaveLength(1);
  }, 60_000);
});

describe('a run killed mid-way', () => {
  let h: SnapshotHarness;
  beforeAll(async () => {
    h = await startSnapshotHarness({ customers: 150 });
  });
  afterAll(() => h.close());

  test('when the process dies after 120 customers, then the next invocation resumes once the lease lapses, skips checkpointed customers, and every customer is present once', async () => {
    const summaryCalls = new Map<string, number>();
    let killed = false;
    const hang = () => new Promise<never>(() => undefined);
    let committed = 0;
    // Dies like a process: after the 120th customer commit, nothing it calls ever answers again.
    const dying = {
      runs: new Proxy(h.store.runs, {
        get: (target, name) => {
          const value = Reflect.get(target, name) as unknown;
          return typeof value === 'function'
            ? (...args: unknown[]) =>
                killed ? hang() : (value as (...a: unknown[]) => unknown).apply(target, args)
            : value;
        },
      }),
      writer: new Proxy(h.store.writer, {
        get: (target, name) => {
          const value = Reflect.get(target, name) as unknown;
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            if (killed) return hang();
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (name === 'commitCustomer' && ++committed >= 120) killed = true;
            return result;
          };
        },
      }),
    };
    const counting = (client: SnapshotPartnerCenter, dead: () => boolean): SnapshotPartnerCenter => ({
      ...detailCalls(client),
      getPartnerUsageSummary: (o) => (dead() ? hang() : client.getPartnerUsageSummary(o)),
      listCustomerUsageRecords: (o) => client.listCustomerUsageRecords(o),
      getCustomerUsageSummary: (id, o) => {
        if (dead()) return hang();
        summaryCalls.set(id, (summaryCalls.get(id) ?? 0) + 1);
        return client.getCustomerUsageSummary(id, o);
      },
      listSubscriptionUsageRecords: (id, o) => client.listSubscriptionUsageRecords(id, o),
      listResourceUsageRecords: (c, s, o) => client.listResourceUsageRecords(c, s, o),
    });

    const run = await h.store.requestRun('manual');
    const first = continueRun(
      h.deps({
        store: dying,
        partnerCenter: counting(h.client, () => killed),
        holder: 'doomed',
        leaseTtlMs: 1_000,
        checkpointIntervalMs: 60_000,
      }),
      run.runId,
    );
    void first;
    while (!killed) await new Promise((r) => setTimeout(r, 20));

    // Straight after the death the lease is still live: the resume timer must leave the run alone.
    expect(await resumeActiveRun(h.deps({ holder: 'rescuer' }))).toEqual({ kind: 'busy', runId: run.runId });
    // A checkpoint is due once 100 finished customers are buffered, and it records every customer
    // buffered when it runs: on a busy machine a few more commits land in between. The 120th is
    // buffered only after the writer died, so no checkpoint that was written can hold it.
    const checkpointed = (await h.store.writer.runProgress(run.runId)).finished;
    expect(checkpointed.size).toBeGreaterThanOrEqual(100);
    expect(checkpointed.size).toBeLessThan(120);
    await new Promise((r) => setTimeout(r, 1_100));

    const before = new Map(summaryCalls);
    const resumed = finishedRun(
      await resumeActiveRun(h.deps({ holder: 'rescuer', partnerCenter: counting(h.client, () => false) })),
    );
    expect(resumed).toMatchObject({ runId: run.runId, state: 'succeeded', invocations: 2 });
    expect(resumed.counts.customersWritten).toBe(150);
    for (const id of checkpointed) expect(summaryCalls.get(id)).toBe(before.get(id));
    const ids = (await storedCustomers(h.store)).map((c) => c.customerId);
    expect(ids).toHaveLength(150);
    expect(new Set(ids).size).toBe(150);
    await expectStoreMatchesPartnerCenter(h.store, h.client);
  }, 60_000);
});

describe('overlapping runs', () => {
  let h: SnapshotHarness;
  beforeAll(async () => {
    h = await startSnapshotHarness({ customers: 40, faults: { latencyMs: 10 } });
  });
  afterAll(() => h.close());

  test('when a second run is started during the first, then it is refused, a manual request is refused, and the resume timer stays away', async () => {
    const first = startScheduledRun(h.deps());
    let active = await h.store.runs.activeRun();
    while (!active?.holder) {
      await new Promise((r) => setTimeout(r, 10));
      active = await h.store.runs.activeRun();
    }
    expect(await startScheduledRun(h.deps({ holder: 'other' }))).toEqual({
      kind: 'refused',
      activeRunId: active.run.runId,
    });
    await expect(h.store.requestRun('manual')).rejects.toMatchObject({ code: 'RunAlreadyActive' });
    expect(await resumeActiveRun(h.deps({ holder: 'other' }))).toEqual({
      kind: 'busy',
      runId: active.run.runId,
    });
    expect(finishedRun(await first).state).toBe('succeeded');
    expect((await h.store.listRuns(10)).map((r) => r.runId)).toEqual([active.run.runId]);
  });

  test('when a manual run is queued, then the resume timer picks it up and runs it', async () => {
    const queued = await h.store.requestRun('manual');
    const run = finishedRun(await resumeActiveRun(h.deps()));
    expect(run).toMatchObject({ runId: queued.runId, trigger: 'manual', state: 'succeeded' });
    expect(await resumeActiveRun(h.deps())).toEqual({ kind: 'idle' });
  });
});

describe('readers during a run', () => {
  let h: SnapshotHarness;
  beforeAll(async () => {
    h = await startSnapshotHarness({ customers: 40, faults: { latencyMs: 3 } });
  });
  afterAll(() => h.close());

  test('when a reader polls while a new run replaces the data, then every answer is wholly the previous or wholly the new snapshot', async () => {
    const capture = async () => {
      const customers = await storedCustomers(h.store);
      const views = new Map<string, string>();
      const resources = new Map<string, string>();
      for (const c of customers.slice(0, 12)) {
        const view = await h.store.getCustomer(c.customerId);
        views.set(c.customerId, JSON.stringify(view));
        if (view.status === 'found')
          for (const s of view.value.subscriptions)
            resources.set(
              `${c.customerId}/${s.subscriptionId}`,
              JSON.stringify(await h.store.getSubscriptionResources(c.customerId, s.subscriptionId)),
            );
      }
      const page = await h.store.listCustomers({ filter: {}, limit: 1000 });
      return {
        list: JSON.stringify(customers),
        page: { runId: page?.snapshot.runId, items: JSON.stringify(page?.page.items) },
        partner: JSON.stringify(await h.store.getPartnerSummary()),
        views,
        resources,
      };
    };
    finishedRun(await startScheduledRun(h.deps()));
    const before = await capture();
    h.sandbox.clock.advance(6 * 3600_000); // usage moves on: every amount differs in the next run

    const seen: Array<Awaited<ReturnType<typeof capture>>> = [];
    let done = false;
    const run = startScheduledRun(
      h.deps({ settings: { timeBudgetMs: 60_000, customerConcurrency: 2 } }),
    ).finally(() => {
      done = true;
    });
    while (!done) seen.push(await capture());
    finishedRun(await run);
    const after = await capture();

    expect(after.partner).not.toBe(before.partner);
    expect(seen.length).toBeGreaterThan(2);
    for (const s of seen) {
      expect([before.list, after.list]).toContain(s.list);
      expect([before.partner, after.partner]).toContain(s.partner);
      // A list page is wholly the run its snapshot names.
      expect(s.page.items === before.page.items).toBe(s.page.runId === before.page.runId);
      expect(s.page.items === after.page.items).toBe(s.page.runId === after.page.runId);
      for (const [id, view] of s.views) expect([before.views.get(id), after.views.get(id)]).toContain(view);
      for (const [key, view] of s.resources)
        expect([before.resources.get(key), after.resources.get(key)]).toContain(view);
    }
    // Some polls caught customers in between: old ones and new ones within one poll.
    expect(
      seen.some(
        (s) =>
          [...s.views].some(([id, v]) => v === before.views.get(id)) &&
          [...s.views].some(([id, v]) => v === after.views.get(id)),
      ),
    ).toBe(true);
  });
});

describe('faults', () => {
  let h: SnapshotHarness;
  beforeAll(async () => {
    h = await startSnapshotHarness({ customers: 80 });
  });
  afterAll(() => h.close());

  test('when Partner Center answers 500 to half the requests, then failed customers are recorded with their reason, the rest are written, and the next run retries them', async () => {
    // Faults start once the customers list has arrived, so only per-customer calls meet them.
    const faulty: SnapshotPartnerCenter = {
      ...detailCalls(h.client),
      getPartnerUsageSummary: (o) => h.client.getPartnerUsageSummary(o),
      listCustomerUsageRecords: (o) =>
        (async function* () {
          const all = await collect(h.client.listCustomerUsageRecords(o));
          h.sandbox.faults.set({ status500: 0.5 });
          yield* all;
        })(),
      getCustomerUsageSummary: (id, o) => h.client.getCustomerUsageSummary(id, o),
      listSubscriptionUsageRecords: (id, o) => h.client.listSubscriptionUsageRecords(id, o),
      listResourceUsageRecords: (c, s, o) => h.client.listResourceUsageRecords(c, s, o),
    };
    const run = finishedRun(await startScheduledRun(h.deps({ partnerCenter: faulty })));
    h.sandbox.faults.clear();
    expect(run.state).toBe('partial');
    expect(run.counts.customersFailed).toBeGreaterThan(0);
    expect(run.counts.customersWritten).toBeGreaterThan(0);
    expect(run.counts.customersWritten + run.counts.customersFailed).toBe(80);
    expect(run.reason).toBe(`${run.counts.customersFailed} customer(s) failed`);

    const failedRows: Array<Record<string, unknown>> = [];
    for await (const row of h.store.tables.table('CustomerLists').listEntities<Record<string, unknown>>())
      if (row.outcome === 'failed') failedRows.push(row);
    expect(failedRows).toHaveLength(run.counts.customersFailed);
    for (const row of failedRows)
      expect(row).toMatchObject({ failureCode: 'PartnerCenterHttp', failureStatus: 500 });
    expect(events(h.logger.lines, 'CustomerSnapshotFailed')).toHaveLength(run.counts.customersFailed);
    expect(events(h.logger.lines, 'SnapshotRunPartial')).toHaveLength(1);
    for (const row of failedRows)
      expect((await h.store.getCustomer(String(row.customerId))).status).toBe('notSnapshotted');

    const again = finishedRun(await startScheduledRun(h.deps()));
    expect(again).toMatchObject({ state: 'succeeded', counts: { customersWritten: 80, customersFailed: 0 } });
    await expectStoreMatchesPartnerCenter(h.store, h.client);
  });

  test('when the refresh token is revoked, then the run fails at once with ReconsentRequired and the previous view stays', async () => {
    const { clientFor } = await import('./support');
    const fresh = clientFor(h.sandbox);
    const previous = await h.store.getPartnerSummary();
    h.sandbox.revokeRefreshToken(h.sandbox.latestRefreshToken());
    h.sandbox.revokeRefreshToken(h.sandbox.credentials.refreshToken);
    const run = finishedRun(await startScheduledRun(h.deps({ partnerCenter: fresh })));
    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/ReconsentRequired/);
    const failed = events(h.logger.lines, 'SnapshotRunFailed');
    expect(failed.at(-1)).toMatch(/ReconsentRequired/);
    expect(await h.store.getPartnerSummary()).toEqual(previous);
    expect(await h.store.runs.activeRun()).toBeUndefined();
  });
});

describe('time budget', () => {
  let h: SnapshotHarness;
  beforeAll(async () => {
    h = await startSnapshotHarness({ customers: 80, faults: { latencyMs: 5 } });
  });
  afterAll(() => h.close());

  test('when a run needs longer than one time budget, then it yields with a checkpoint and completes over several invocations', async () => {
    const outcome = await runSnapshotToCompletion(
      h.deps({ settings: { timeBudgetMs: 250, customerConcurrency: 2 }, checkpointIntervalMs: 50 }),
    );
    const run = finishedRun(outcome);
    expect(run.state).toBe('succeeded');
    expect(run.invocations).toBeGreaterThan(1);
    expect(run.counts.customersWritten).toBe(80);
    expect(new Set((await storedCustomers(h.store)).map((c) => c.customerId)).size).toBe(80);
  });
});
