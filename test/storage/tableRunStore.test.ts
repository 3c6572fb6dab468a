import { errorCode } from '../../src/domain/errors';
import { LeaseLostError } from '../../src/domain/runs';
import { newStore } from './factories';

function clock(start = '2025-03-15T12:00:00Z') {
  let now = new Date(start).getTime();
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
}

test('when a run is requested, then it is queued with a correlation id and listed newest first', async () => {
  const t = clock();
  const store = await newStore({ now: t.now });
  const first = await store.requestRun('manual');
  expect(first).toMatchObject({
    state: 'queued',
    trigger: 'manual',
    requestedAt: '2025-03-15T12:00:00.000Z',
  });
  expect(first.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  const lease = await store.runs.acquireLease(first.runId, 'h1', 60_000);
  await store.runs.finishRun(lease!, { state: 'succeeded' });
  t.advance(1000);
  const second = await store.requestRun('timer');
  const runs = await store.listRuns(10);
  expect(runs.map((r) => r.runId)).toEqual([second.runId, first.runId]);
  expect(runs[1].state).toBe('succeeded');
});

test('when a run is queued or running, then another request is refused with RunAlreadyActive', async () => {
  const store = await newStore();
  const run = await store.requestRun('manual');
  expect(errorCode(await store.requestRun('manual').catch((e: unknown) => e))).toBe('RunAlreadyActive');
  await store.runs.acquireLease(run.runId, 'h1', 60_000);
  expect(errorCode(await store.requestRun('timer').catch((e: unknown) => e))).toBe('RunAlreadyActive');
});

test('when ten requests race, then exactly one run is queued', async () => {
  const store = await newStore();
  const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.requestRun('manual')));
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of results) if (r.status === 'rejected') expect(errorCode(r.reason)).toBe('RunAlreadyActive');
});

test('when one holder has a live lease, then another cannot take it; after it lapses, the other can, and the first loses it', async () => {
  const t = clock();
  const store = await newStore({ now: t.now });
  const run = await store.requestRun('timer');
  const a = await store.runs.acquireLease(run.runId, 'a', 60_000);
  expect(a).toBeDefined();
  expect(await store.runs.acquireLease(run.runId, 'b', 60_000)).toBeUndefined();
  const renewed = await store.runs.renewLease(a!, 60_000, { state: 'running' });
  t.advance(61_000);
  expect((await store.runs.activeRun())?.holder).toBeUndefined();
  const b = await store.runs.acquireLease(run.runId, 'b', 60_000);
  expect(b?.holder).toBe('b');
  await expect(store.runs.renewLease(renewed, 60_000)).rejects.toBeInstanceOf(LeaseLostError);
  expect((await store.runs.activeRun())?.holder).toBe('b');
});

test('when two holders race for a free lease, then exactly one gets it', async () => {
  const store = await newStore();
  const run = await store.requestRun('timer');
  const results = await Promise.all(
    ['a', 'b', 'c', 'd'].map((h) => store.runs.acquireLease(run.runId, h, 60_000)),
  );
  expect(results.filter(Boolean)).toHaveLength(1);
});

test('when a holder releases, then the run stays active and free; when it finishes, then no run is active', async () => {
  const store = await newStore();
  const run = await store.requestRun('cli');
  const a = await store.runs.acquireLease(run.runId, 'a', 60_000);
  await store.runs.releaseLease(a!, { state: 'running', counts: { customersWritten: 5 } });
  const active = await store.runs.activeRun();
  expect(active?.run).toMatchObject({ runId: run.runId, state: 'running', counts: { customersWritten: 5 } });
  expect(active?.holder).toBeUndefined();
  const b = await store.runs.acquireLease(run.runId, 'b', 60_000);
  await store.runs.finishRun(b!, { state: 'partial', reason: '1 customer failed' });
  expect(await store.runs.activeRun()).toBeUndefined();
  expect(await store.runs.getRun(run.runId)).toMatchObject({ state: 'partial', reason: '1 customer failed' });
});
