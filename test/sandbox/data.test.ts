import { Permutation32 } from '../../dev/sandbox/prng';
import { SandboxData } from '../../dev/sandbox/data';
import { formatDecimal, startSandbox } from '../../dev/sandbox';
import { percentOf } from '../../dev/sandbox/money';
import { pcGet } from './support';

describe('generated data', () => {
  it('when the seed is the same, then the customers are the same; another seed gives others', () => {
    const a = [...new SandboxData(4, 50).customers()];
    const b = [...new SandboxData(4, 50).customers()];
    const c = [...new SandboxData(5, 50).customers()];
    expect(a).toEqual(b);
    expect(a.map((x) => x.id)).not.toEqual(c.map((x) => x.id));
  });

  it('when a customer id is looked up, then the same customer comes back, in any letter case', () => {
    const data = new SandboxData(8, 5000);
    for (const index of [0, 1, 2500, 4999]) {
      const customer = data.customer(index);
      expect(data.findCustomer(customer.id)?.index).toBe(index);
      expect(data.findCustomer(customer.id.toUpperCase())?.index).toBe(index);
    }
    expect(data.findCustomer('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    expect(data.findCustomer(new SandboxData(9, 5000).customer(3).id)).toBeUndefined();
  });

  it('when 3,000 customers are generated, then the documented variety is all there', () => {
    const customers = [...new SandboxData(1, 3000).customers()];
    const share = (test: (c: (typeof customers)[number]) => boolean) =>
      customers.filter(test).length / customers.length;
    expect(share((c) => c.kind === 'legacy')).toBeGreaterThan(0.55);
    expect(share((c) => c.kind === 'legacy')).toBeLessThan(0.65);
    expect(
      new Set(customers.filter((c) => c.kind === 'legacy').map((c) => c.currencyLocale)).size,
    ).toBeGreaterThanOrEqual(5);
    expect(
      new Set(customers.filter((c) => c.kind === 'azurePlan').map((c) => c.currencyCode)).size,
    ).toBeGreaterThanOrEqual(4);
    expect(share((c) => c.subscriptions.length === 0)).toBeGreaterThan(0.05);
    expect(share((c) => c.budget === undefined)).toBeGreaterThan(0.1);
    expect(share((c) => c.budgetKey === 'ammount')).toBeGreaterThan(0);
    expect(share((c) => c.summaryNaming === 'resourceIdAndName')).toBeGreaterThan(0);
    const subscriptions = customers.flatMap((c) => c.subscriptions);
    expect(Math.max(...subscriptions.map((s) => s.resourceCount))).toBeGreaterThanOrEqual(200);
    expect(
      subscriptions.filter((s) => s.resourceCount === 0 && s.offerId === 'MS-AZR-0145P').length,
    ).toBeGreaterThan(0);
    expect(subscriptions.some((s) => s.id !== s.id.toLowerCase())).toBe(true);
    expect(Math.max(...customers.map((c) => c.subscriptions.length))).toBe(5);
  });

  it('when an average of 3 subscriptions per customer is asked, then 0 to 6 each, averaging 3, and everything else as without it', () => {
    const customers = [...new SandboxData(1, 3000, 3).customers()];
    const counts = customers.map((c) => c.subscriptions.length);
    const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(mean).toBeGreaterThan(2.9);
    expect(mean).toBeLessThan(3.1);
    expect(new Set(counts)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
    const recorded = [...new SandboxData(1, 3000).customers()];
    expect(customers.map((c) => [c.id, c.kind, c.name])).toEqual(recorded.map((c) => [c.id, c.kind, c.name]));
    expect(() => new SandboxData(1, 10, 2.5)).toThrow('subscriptionsPerCustomer must be a whole number 0-50');
  });

  it('when a sandbox is started with an average of 3 subscriptions, then its subscriptions call lists them', async () => {
    const sandbox = await startSandbox({ customers: 40, seed: 3, subscriptionsPerCustomer: 3 });
    try {
      let total = 0;
      for (const customer of sandbox.data.customers()) {
        const res = await pcGet(sandbox, `/v1/customers/${customer.id}/subscriptions/usagerecords`, {
          token: sandbox.issueAccessToken(),
        });
        expect(res.status).toBe(200);
        total += (res.body as { totalCount: number }).totalCount;
      }
      expect(total).toBe([...sandbox.data.customers()].reduce((n, c) => n + c.subscriptions.length, 0));
      expect(total / 40).toBeGreaterThan(2);
    } finally {
      await sandbox.close();
    }
  });

  it('when the Feistel permutation is inverted, then every index comes back', () => {
    const permutation = new Permutation32(123);
    for (const x of [0, 1, 2, 65535, 65536, 99_999, 4_294_967_295])
      expect(permutation.inverse(permutation.forward(x))).toBe(x);
  });
});

describe('money text', () => {
  it.each([
    [0n, '0'],
    [1n, '0.000000000000000001'],
    [5_000_000_000_000_000_000n, '5'],
    [33_280_000_000_000_001_044n, '33.280000000000001044'],
    [120_568_299_999_999_590_471n, '120.568299999999590471'],
  ])('when %p units of 10^-18 are written, then the text is %p', (units, text) => {
    expect(formatDecimal(units)).toBe(text);
  });

  it('when 120.568299999999590471 is spent of a budget of 20, then percentUsed is 602.84 as documented', () => {
    expect(percentOf(120_568_299_999_999_590_471n, 20)).toBe('602.84');
  });
});

describe('scale', () => {
  // Not how fast it starts (timings belong in benchmarks), but that it holds no customers until
  // asked: 100,000 generated up front would take far more than 20 MiB.
  it('when 100,000 customers are asked for, then the sandbox starts small and serves the last one', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const sandbox = await startSandbox({ customers: 100_000, seed: 1 });
    try {
      expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(20 * 1024 * 1024);
      const token = sandbox.issueAccessToken();
      const first = await pcGet(sandbox, '/v1/customers/usagerecords', { token });
      expect(first.body.totalCount).toBe(2000);
      expect(first.body.links.next).toBeDefined();
      const last = sandbox.data.customer(99_999);
      const subscriptions = await pcGet(sandbox, `/v1/customers/${last.id}/subscriptions/usagerecords`, {
        token,
      });
      expect(subscriptions.body.totalCount).toBe(last.subscriptions.length);
    } finally {
      await sandbox.close();
    }
  });
});
