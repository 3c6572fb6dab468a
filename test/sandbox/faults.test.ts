import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { pcGet, rawGet, type RawOutcome } from './support';

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function sandboxWith(seed: number, faults: Parameters<Sandbox['faults']['set']>[0]) {
  const sandbox = await startSandbox({
    customers: 3,
    seed,
    faults,
    now: '2025-03-10T08:00:00Z',
    freezeClock: true,
  });
  sandboxes.push(sandbox);
  return { sandbox, token: sandbox.issueAccessToken() };
}

async function statuses(sandbox: Sandbox, token: string, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await pcGet(sandbox, '/v1/usagesummary', { token })).status);
  return out;
}

/** Within four standard deviations of a binomial mean. */
function expectRate(observed: number, trials: number, p: number) {
  const sd = Math.sqrt(trials * p * (1 - p));
  expect(observed).toBeGreaterThanOrEqual(Math.floor(trials * p - 4 * sd));
  expect(observed).toBeLessThanOrEqual(Math.ceil(trials * p + 4 * sd));
}

describe('fault injection', () => {
  it('when 500s are set at 20%, then about a fifth of 300 calls fail and the counters agree', async () => {
    const { sandbox, token } = await sandboxWith(11, { status500: 0.2 });
    const seen = await statuses(sandbox, token, 300);
    const failures = seen.filter((s) => s === 500).length;
    expectRate(failures, 300, 0.2);
    expect(seen.every((s) => s === 200 || s === 500)).toBe(true);
    expect(sandbox.counters.snapshot().faults.status500).toBe(failures);
  });

  it('when the seed is the same, then the same calls fail; another seed fails others', async () => {
    const a = await sandboxWith(5, { status503: 0.3 });
    const b = await sandboxWith(5, { status503: 0.3 });
    const c = await sandboxWith(6, { status503: 0.3 });
    const [sa, sb, sc] = await Promise.all(
      [a, b, c].map(({ sandbox, token }) => statuses(sandbox, token, 60)),
    );
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(sa).toContain(503);
  });

  it('when every kind is enabled, then each shows up as itself at its rate', async () => {
    const rate = 0.08;
    const { sandbox, token } = await sandboxWith(21, {
      status500: rate,
      status503: rate,
      reset: rate,
      truncated: rate,
      malformed: rate,
      slowBody: rate,
      slowBodyMs: 80,
    });
    const outcomes: RawOutcome[] = [];
    for (let i = 0; i < 400; i++) outcomes.push(await rawGet(sandbox, '/v1/usagesummary', token));
    const parses = (o: RawOutcome) => {
      try {
        JSON.parse((o.body ?? Buffer.alloc(0)).subarray(3).toString('utf8'));
        return true;
      } catch {
        return false;
      }
    };
    const complete200 = outcomes.filter((o) => o.kind === 'complete' && o.status === 200);
    const observed = {
      status500: outcomes.filter((o) => o.status === 500).length,
      status503: outcomes.filter((o) => o.status === 503).length,
      reset: outcomes.filter((o) => o.kind === 'reset').length,
      truncated: outcomes.filter((o) => o.kind === 'truncated').length,
      malformed: complete200.filter((o) => !parses(o)).length,
      slowBody: complete200.filter((o) => parses(o) && (o.bodyMs ?? 0) >= 40).length,
    };
    // A stalled body is told apart by timing alone, which a loaded machine can blur by one or two.
    const { slowBody, ...exact } = sandbox.counters.snapshot().faults;
    const { slowBody: slowSeen, ...exactSeen } = observed;
    expect(exact).toEqual(exactSeen);
    expect(Math.abs((slowBody ?? 0) - slowSeen)).toBeLessThanOrEqual(2);
    for (const count of Object.values(observed)) expectRate(count, 400, rate);
  });

  it('when a body is slow, then headers come first and the rest after the stall', async () => {
    const { sandbox, token } = await sandboxWith(2, { slowBody: 1, slowBodyMs: 150 });
    const outcome = await rawGet(sandbox, '/v1/usagesummary', token);
    expect(outcome).toMatchObject({ kind: 'complete', status: 200 });
    expect(outcome.elapsedMs).toBeGreaterThanOrEqual(145);
    expect(outcome.bodyMs).toBeGreaterThanOrEqual(100);
  });

  it('when a body is truncated, then fewer bytes than Content-Length arrive before the connection closes', async () => {
    const { sandbox, token } = await sandboxWith(2, { truncated: 1 });
    expect(await rawGet(sandbox, '/v1/usagesummary', token)).toMatchObject({
      kind: 'truncated',
      status: 200,
    });
  });

  it('when a connection is reset, then no response arrives', async () => {
    const { sandbox, token } = await sandboxWith(2, { reset: 1 });
    expect(await rawGet(sandbox, '/v1/usagesummary', token)).toMatchObject({ kind: 'reset' });
    expect(sandbox.counters.snapshot().requests['GET /v1/usagesummary']).toEqual({ reset: 1 });
  });

  it('when faults are switched off at run time, then every call succeeds', async () => {
    const { sandbox, token } = await sandboxWith(2, { status500: 0.5 });
    sandbox.faults.clear();
    expect(new Set(await statuses(sandbox, token, 30))).toEqual(new Set([200]));
    sandbox.faults.set({ status500: 1 });
    expect(new Set(await statuses(sandbox, token, 5))).toEqual(new Set([500]));
  });

  it('when latency is set, then answers take at least that long and jitter stays in bounds', async () => {
    const { sandbox, token } = await sandboxWith(2, { latencyMs: 30, latencyJitterMs: 20 });
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      await pcGet(sandbox, '/v1/usagesummary', { token });
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(29);
      expect(elapsed).toBeLessThan(1000);
    }
  });

  it('when rates add up to more than 1, then setting them throws', async () => {
    const { sandbox } = await sandboxWith(2, {});
    expect(() => sandbox.faults.set({ status500: 0.6, reset: 0.6 })).toThrow(/more than 1/);
  });
});
