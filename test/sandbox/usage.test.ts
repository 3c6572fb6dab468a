import { formatDecimal, startSandbox, type Sandbox } from '../../dev/sandbox';
import { pcGet, rawNumbers, toUnits } from './support';

let sandbox: Sandbox;
let token: string;

beforeAll(async () => {
  sandbox = await startSandbox({ customers: 30, seed: 9, now: '2025-03-01T00:00:00Z', freezeClock: true });
  token = sandbox.issueAccessToken({ lifetimeSeconds: 400 * 24 * 3600 });
});
afterAll(() => sandbox.close());

const spender = () => {
  const found = [...sandbox.data.customers()].find(
    (c) => sandbox.customerUsage(c.index, '2025-03-31T00:00:00Z').totalCost > 0n,
  );
  if (!found) throw new Error('no customer with usage');
  return found;
};

async function summaryAt(when: string) {
  sandbox.clock.setNow(when);
  const response = await pcGet(sandbox, `/v1/customers/${spender().id}/usagesummary`, { token });
  return { body: response.body, totalCost: rawNumbers(response.text, 'totalCost')[0] };
}

describe('usage over the sandbox clock', () => {
  it('when the clock moves through a month, then costs only grow', async () => {
    const costs: bigint[] = [];
    for (const day of ['01', '05', '10', '15', '20', '25', '31']) {
      costs.push(toUnits((await summaryAt(`2025-03-${day}T12:00:00Z`)).totalCost));
    }
    expect(costs[0]).toBeGreaterThan(0n);
    for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeGreaterThan(costs[i - 1]);
  });

  it('when the month rolls over, then costs start again from zero in a new billing period', async () => {
    const march = await summaryAt('2025-03-31T23:30:00Z');
    const april = await summaryAt('2025-04-01T00:30:00Z');
    expect(toUnits(march.totalCost)).toBeGreaterThan(0n);
    expect(april.totalCost).toBe('0');
    expect(march.body.billingStartDate).toBe('2025-03-01T00:00:00+00:00');
    expect(march.body.billingEndDate).toBe('2025-04-01T00:00:00+00:00');
    expect(april.body.billingStartDate).toBe('2025-04-01T00:00:00+00:00');
    expect(april.body.billingEndDate).toBe('2025-05-01T00:00:00+00:00');
  });

  it('when usage is rated hourly, then lastModifiedDate is the last whole hour and costs hold still within it', async () => {
    const early = await summaryAt('2025-03-12T10:05:00Z');
    const late = await summaryAt('2025-03-12T10:55:00Z');
    expect(early.body.lastModifiedDate).toBe('2025-03-12T10:00:00+00:00');
    expect(late.totalCost).toBe(early.totalCost);
  });

  it('when the served cost is compared with the data accessor, then it is the same at any moment', async () => {
    const at = '2025-03-21T17:00:00Z';
    const { totalCost } = await summaryAt(at);
    expect(totalCost).toBe(formatDecimal(sandbox.customerUsage(spender().index, at).totalCost));
  });

  it('when the partner summary is read, then its counts match the customers and its total the legacy ones', async () => {
    sandbox.clock.setNow('2025-03-28T00:00:00Z');
    const response = await pcGet(sandbox, '/v1/usagesummary', { token });
    const usages = [...sandbox.data.customers()].map((c) => sandbox.customerUsage(c.index));
    const legacyUsd = usages
      .filter((u) => u.customer.kind === 'legacy')
      .reduce((s, u) => s + u.usdTotalCost, 0n);
    expect(response.body).toMatchObject({
      customersOverBudget: usages.filter((u) => u.overBudget).length,
      customersTrendingOver: usages.filter((u) => u.trendingOver).length,
      customersWithUsageBasedSubscription: usages.filter((u) => u.subscriptions.length > 0).length,
      currencyLocale: 'en-US',
      lastModifiedDate: '2025-03-28T00:00:00+00:00',
    });
    expect(rawNumbers(response.text, 'totalCost')).toEqual([formatDecimal(legacyUsd)]);
    expect(response.body.customersOverBudget).toBeGreaterThan(0);
  });

  it('when a customer is over budget, then percentUsed is above 100', async () => {
    sandbox.clock.setNow('2025-03-30T00:00:00Z');
    const over = [...sandbox.data.customers()]
      .map((c) => sandbox.customerUsage(c.index))
      .find((u) => u.overBudget);
    expect(over).toBeDefined();
    expect(Number(over?.percentUsed)).toBeGreaterThan(100);
  });
});

describe('a moving share of customers', () => {
  let moving: Sandbox;
  let movingToken: string;
  beforeAll(async () => {
    moving = await startSandbox({
      customers: 200,
      seed: 9,
      now: '2025-03-15T12:00:00Z',
      freezeClock: true,
      movingShare: 0.1,
    });
    movingToken = moving.issueAccessToken({ lifetimeSeconds: 400 * 24 * 3600 });
  });
  afterAll(() => moving.close());

  /** Every customer's answer to each customer-scoped read, as the API sends it. */
  async function answers(): Promise<Map<string, string>> {
    const list = await pcGet(moving, '/v1/customers/usagerecords', { token: movingToken });
    const records = (list.body as { items: Array<{ id: string }> }).items;
    const out = new Map<string, string>();
    for (const record of records) {
      const summary = await pcGet(moving, `/v1/customers/${record.id}/usagesummary`, { token: movingToken });
      const subscriptions = await pcGet(moving, `/v1/customers/${record.id}/subscriptions/usagerecords`, {
        token: movingToken,
      });
      out.set(record.id, JSON.stringify([record, summary.text, subscriptions.text]));
    }
    return out;
  }

  it('when the clock moves one interval, then about that share of customers answer differently and the rest byte for byte as before', async () => {
    const before = await answers();
    moving.clock.advance(3600_000);
    const after = await answers();
    const changed = [...before.keys()].filter((id) => before.get(id) !== after.get(id));
    // 200 draws at 0.1: 20 expected; the seeded draw gives a fixed count near it.
    expect(changed.length).toBeGreaterThan(5);
    expect(changed.length).toBeLessThan(40);
    for (const id of changed) {
      const [was, is] = [before.get(id), after.get(id)].map((t) => JSON.parse(t as string) as unknown[]);
      expect((is[0] as { lastModifiedDate: string }).lastModifiedDate).toBe('2025-03-15T13:00:00+00:00');
      expect(was[0]).not.toEqual(is[0]);
    }
  });
});
