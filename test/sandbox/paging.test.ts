import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { pcGet, rawNumbers, toUnits, walk } from './support';

let sandbox: Sandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox({
    customers: 40,
    seed: 3,
    pageSize: 7,
    now: '2025-05-20T10:00:00Z',
    freezeClock: true,
  });
  // A year-long token, so that moving the clock to the next month leaves it valid.
  token = sandbox.issueAccessToken({ lifetimeSeconds: 365 * 24 * 3600 });
});
afterAll(() => sandbox.close());

const firstPage = () => pcGet(sandbox, '/v1/customers/usagerecords', { token });

describe('paging', () => {
  it('when the customers list is longer than a page, then links.next walks it to the end in order', async () => {
    const pages = await walk(sandbox, '/customers/usagerecords', token);
    expect(pages.map((p) => p.body.totalCount)).toEqual([7, 7, 7, 7, 7, 5]);
    expect(pages.map((p) => p.body.items.length)).toEqual([7, 7, 7, 7, 7, 5]);
    const ids = pages.flatMap((p) => p.body.items.map((item: { id: string }) => item.id));
    expect(ids).toEqual([...sandbox.data.customers()].map((c) => c.id));
    expect(pages.at(-1)?.body.links.next).toBeUndefined();
  });

  it('when a page has a next link, then it has the documented shape', async () => {
    const { next } = (await firstPage()).body.links;
    expect(next).toEqual({
      uri: '/customers/usagerecords?size=7&seekOperation=Next',
      method: 'GET',
      headers: [{ key: 'MS-ContinuationToken', value: expect.any(String) }],
    });
  });

  it('when a subscription has more resources than a page, then walking them yields every resource once', async () => {
    const big = await bigLegacySubscription(sandbox);
    const path = `/customers/${big.customer.id}/subscriptions/${big.subscription.id}/usagerecords/resources`;
    const pages = await walk(sandbox, path, token);
    const items = pages.flatMap((p) => p.body.items);
    expect(items).toHaveLength(big.subscription.resourceCount);
    expect(new Set(items.map((i: { id: string }) => i.id)).size).toBe(items.length);
    const sum = pages.flatMap((p) => rawNumbers(p.text, 'totalCost')).reduce((s, c) => s + toUnits(c), 0n);
    const subscription = sandbox.customerUsage(big.customer.index).subscriptions[big.subscription.index];
    expect(sum).toBe(subscription.totalCost);
  });

  it('when the continuation token is altered, then 400', async () => {
    const token0 = (await firstPage()).body.links.next.headers[0].value as string;
    const forged = token0.slice(0, -1) + (token0.endsWith('A') ? 'B' : 'A');
    const response = await pcGet(sandbox, '/v1/customers/usagerecords?size=7&seekOperation=Next', {
      token,
      headers: { 'MS-ContinuationToken': forged },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 2000, source: 'PartnerFD' });
  });

  it('when a token from one collection is sent to another, then 400', async () => {
    const token0 = (await firstPage()).body.links.next.headers[0].value as string;
    const customer = sandbox.data.customer(0);
    const response = await pcGet(sandbox, `/v1/customers/${customer.id}/subscriptions/usagerecords`, {
      token,
      headers: { 'MS-ContinuationToken': token0 },
    });
    expect(response.status).toBe(400);
  });

  it('when seekOperation=Next comes without a token, then 400', async () => {
    const response = await pcGet(sandbox, '/v1/customers/usagerecords?size=7&seekOperation=Next', { token });
    expect(response.status).toBe(400);
  });

  it('when the billing period rolls over, then an earlier token is stale and refused', async () => {
    const token0 = (await firstPage()).body.links.next.headers[0].value as string;
    const before = sandbox.clock.now();
    sandbox.clock.setNow('2025-06-01T01:00:00Z');
    try {
      const response = await pcGet(sandbox, '/v1/customers/usagerecords', {
        token,
        headers: { 'MS-ContinuationToken': token0 },
      });
      expect(response.status).toBe(400);
      expect(response.body.description).toMatch(/stale/);
    } finally {
      sandbox.clock.setNow(before);
    }
  });
});

async function bigLegacySubscription(sb: Sandbox) {
  for (const customer of sb.data.customers()) {
    if (customer.kind !== 'legacy') continue;
    const subscription = customer.subscriptions.find((s) => s.resourceCount > 3 * 7);
    if (subscription) return { customer, subscription };
  }
  throw new Error('seed 3 has no legacy subscription with more than 21 resources');
}
