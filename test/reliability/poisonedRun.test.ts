import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { finishedRun } from '../snapshot/support';
import { startDataHarness, type DataHarness } from './dataHarness';
import { pcGuid, plainTenant, recordOf, summaryOf } from './scriptedPartnerCenter';
import { runListRows } from './support';

/**
 * Issue 15, "a poisoned run": one customer whose name breaks Table Storage's 32 768-character
 * string limit used to fail the whole customer-list checkpoint, so the invocation ended with
 * nothing checkpointed, every resume failed the same way and the run stayed `running` (refusing
 * new runs) until it expired 24 h later.
 */
describe('a customer whose data breaks a storage limit', () => {
  let h: DataHarness;
  const poisoned = pcGuid(3);
  beforeAll(async () => {
    h = await startDataHarness(plainTenant(6));
  });
  afterAll(() => h.close());

  test('when its name has 40 000 characters, then it alone fails with the reason, its previous view stays, the run ends partial, and the next run tries it again', async () => {
    const first = finishedRun(await startScheduledRun(h.deps()));
    expect(first.state).toBe('succeeded');
    const previous = await h.store.getCustomer(poisoned);

    const hostile = plainTenant(6, 2, 2, '20.25');
    const customer = hostile.customers[2];
    recordOf(customer).name = 'N'.repeat(40_000);
    summaryOf(customer).name = 'N'.repeat(40_000);
    h.pc.serve(hostile);
    const started = Date.now();
    const second = finishedRun(await startScheduledRun(h.deps()));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(second).toMatchObject({
      state: 'partial',
      reason: '1 customer(s) failed',
      counts: { customersWritten: 5, customersFailed: 1 },
    });
    const rows = await runListRows(h.store, second.runId);
    expect(rows).toHaveLength(6);
    const row = rows.find((r) => r.customerId === poisoned);
    expect(row).toMatchObject({ outcome: 'failed', failureCode: 'EntityTooLarge' });
    expect(row?.failureMessage).toMatch(/name has 40000 chars; the limit is 32768/);
    // Its previous view is still served, whole; the others are the new run's.
    expect(await h.store.getCustomer(poisoned)).toEqual(previous);
    const other = await h.store.getCustomer(pcGuid(1));
    expect(other.status === 'found' && other.value.snapshot.runId).toBe(second.runId);
    // The run is over: nothing holds the lease and a new run is accepted at once.
    expect(await h.store.runs.activeRun()).toBeUndefined();
    // The list the run published serves every customer without a server error.
    const listed = await h.store.listCustomers({ filter: {}, limit: 1000 });
    expect(listed?.snapshot.runId).toBe(second.runId);

    // The next run tries it again: with the name fixed, it is written.
    h.pc.serve(plainTenant(6, 2, 2, '30.5'));
    const third = finishedRun(await startScheduledRun(h.deps()));
    expect(third).toMatchObject({ state: 'succeeded', counts: { customersWritten: 6, customersFailed: 0 } });
    const healed = await h.store.getCustomer(poisoned);
    expect(healed.status === 'found' && healed.value.snapshot.runId).toBe(third.runId);
  }, 60_000);
});
