import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { finishedRun } from '../snapshot/support';
import { startDataHarness, type DataHarness } from './dataHarness';
import { pcGuid, plainTenant } from './scriptedPartnerCenter';

/**
 * Issue 15, "a half-written customer": a subscription's resources view used to be replaced as soon
 * as it was read, before its customer's view; when the customer then failed, the new resources
 * stayed, so after a `partial` run a subscription served `/resources` from the new run and
 * `/subscriptions` from the previous one.
 */
describe('a customer that fails after some of its subscriptions were read', () => {
  let h: DataHarness;
  beforeAll(async () => {
    h = await startDataHarness(plainTenant(3, 3));
  });
  afterAll(() => h.close());

  test('when its third subscription cannot be read, then none of its views change and every subscription still matches its customer', async () => {
    const first = finishedRun(await startScheduledRun(h.deps()));
    expect(first.state).toBe('succeeded');
    const customerId = pcGuid(2);
    const subscriptionIds = [1, 2, 3].map((s) => pcGuid(s, 2));
    const before = await Promise.all(
      subscriptionIds.map((s) => h.store.getSubscriptionResources(customerId, s)),
    );

    h.pc.serve(plainTenant(3, 3, 2, '99.125'));
    const remove = h.pc.fail(new RegExp(`/subscriptions/${subscriptionIds[2]}/usagerecords/resources`), 500);
    const second = finishedRun(await startScheduledRun(h.deps()));
    remove();
    expect(second).toMatchObject({ state: 'partial', counts: { customersWritten: 2, customersFailed: 1 } });

    const customer = await h.store.getCustomer(customerId);
    expect(customer.status === 'found' && customer.value.snapshot.runId).toBe(first.runId);
    for (const [i, s] of subscriptionIds.entries()) {
      const resources = await h.store.getSubscriptionResources(customerId, s);
      expect(resources.status === 'found' && resources.value.snapshot.runId).toBe(first.runId);
      expect(resources).toEqual(before[i]);
    }
  }, 60_000);
});
