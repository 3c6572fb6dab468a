import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { fixture, pcGet, signature } from './support';

let sandbox: Sandbox;
let token: string;

beforeEach(async () => {
  sandbox = await startSandbox({ customers: 10, now: '2025-03-10T08:00:00Z', freezeClock: true });
  token = sandbox.issueAccessToken();
});
afterEach(() => sandbox.close());

const customersWithUsage = () => [...sandbox.data.customers()].filter((c) => c.subscriptions.length > 0);

describe('throttling', () => {
  it('when a partner exceeds its per-minute limit, then 429 with Retry-After and the documented body', async () => {
    sandbox.limits.set({ partnerPerMinute: 10 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await pcGet(sandbox, '/v1/customers/usagerecords', { token })).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);

    const throttled = await pcGet(sandbox, '/v1/customers/usagerecords', { token });
    const retryAfter = throttled.headers.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(signature(throttled.body)).toEqual(signature(JSON.parse(fixture('throttled.txt'))));
    expect(throttled.body).toEqual({
      statusCode: 429,
      message: `Rate limit is exceeded. Try again in ${retryAfter} seconds.`,
    });
    expect(sandbox.counters.snapshot().throttled).toBe(3);
  });

  it('when the client waits out Retry-After on the sandbox clock, then the next call succeeds', async () => {
    sandbox.limits.set({ partnerPerMinute: 2 });
    await pcGet(sandbox, '/v1/usagesummary', { token });
    await pcGet(sandbox, '/v1/usagesummary', { token });
    const throttled = await pcGet(sandbox, '/v1/usagesummary', { token });
    expect(throttled.status).toBe(429);
    sandbox.clock.advance(Number(throttled.headers.get('retry-after')) * 1000);
    expect((await pcGet(sandbox, '/v1/usagesummary', { token })).status).toBe(200);
  });

  it('when a client keeps retrying while throttled, then each retry pushes Retry-After further', async () => {
    sandbox.limits.set({ partnerPerMinute: 6 });
    for (let i = 0; i < 6; i++) await pcGet(sandbox, '/v1/usagesummary', { token });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      waits.push(Number((await pcGet(sandbox, '/v1/usagesummary', { token })).headers.get('retry-after')));
    }
    expect(waits).toEqual([20, 30, 40]);
  });

  it('when one customer is called too often, then only that customer is throttled', async () => {
    sandbox.limits.set({ customerPerMinute: 3 });
    const [busy, other] = customersWithUsage();
    const busyCalls: number[] = [];
    for (let i = 0; i < 4; i++) {
      busyCalls.push(
        (await pcGet(sandbox, `/v1/customers/${busy.id}/subscriptions/usagerecords`, { token })).status,
      );
    }
    expect(busyCalls).toEqual([200, 200, 200, 429]);
    expect(
      (await pcGet(sandbox, `/v1/customers/${busy.id.toUpperCase()}/usagesummary`, { token })).status,
    ).toBe(429);
    expect((await pcGet(sandbox, `/v1/customers/${other.id}/usagesummary`, { token })).status).toBe(200);
    expect((await pcGet(sandbox, '/v1/customers/usagerecords', { token })).status).toBe(200);
  });

  it('when limits are lifted at run time, then calls go through again', async () => {
    sandbox.limits.set({ partnerPerMinute: 1 });
    await pcGet(sandbox, '/v1/usagesummary', { token });
    expect((await pcGet(sandbox, '/v1/usagesummary', { token })).status).toBe(429);
    sandbox.limits.set({ partnerPerMinute: 0 });
    expect((await pcGet(sandbox, '/v1/usagesummary', { token })).status).toBe(200);
  });

  it('when requests are counted, then counters split them by route template and status', async () => {
    sandbox.limits.set({ partnerPerMinute: 1 });
    const [customer] = customersWithUsage();
    await pcGet(sandbox, `/v1/customers/${customer.id}/usagesummary`, { token });
    await pcGet(sandbox, `/v1/customers/${customer.id}/usagesummary`, { token });
    const snapshot = sandbox.counters.snapshot();
    expect(snapshot.requests['GET /v1/customers/{customerId}/usagesummary']).toEqual({ '200': 1, '429': 1 });
    expect(snapshot.totalRequests).toBe(2);
    sandbox.counters.reset();
    expect(sandbox.counters.snapshot()).toMatchObject({ totalRequests: 0, throttled: 0, requests: {} });
  });
});
