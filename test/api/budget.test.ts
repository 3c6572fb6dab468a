import { resetSettingsCache, SETTINGS } from '../../src/config/settings';
import '../../src/index';
import { registeredFunctions, triggerOf, type RegisteredFunction } from '../../dev/localHost/functionsCore';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { SANDBOX_DEFAULTS } from '../../dev/sandbox/defaults';
import { MONEY_SCALE } from '../../dev/sandbox/money';
import { compareDecimal } from '../../src/domain/decimal';
import { resetDependencies } from '../../src/app/dependencies';
import { azuriteConnectionString, uniqueTablePrefix } from '../support/tables';
import { expectConforms } from './support/openapiValidator';

/**
 * The budget routes over real HTTP: the app's registrations served by the local host, the real
 * composition root, Azurite, and the Partner Center sandbox (whose usagebudget GET/PATCH hold the
 * budget as Partner Center would). A snapshot is taken first, as in test/api/e2e.test.ts.
 */
const RESUME_SCHEDULE = '%SNAPSHOT_RESUME_SCHEDULE%';
const resumeTimer = registeredFunctions().find((fn: RegisteredFunction) => {
  const trigger = triggerOf(fn);
  return trigger.type.toLowerCase() === 'timertrigger' && trigger.schedule === RESUME_SCHEDULE;
});

const FUNCTION_KEY = 'budget-function-key';
const MASTER_KEY = 'budget-master-key';
const CUSTOMERS = 12;
const BUDGET = '/v1/customers/{customerId}/budget';
const CHANGES = '/v1/customers/{customerId}/budget/changes';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}
interface BudgetBody {
  customerId: string;
  amount: string | null;
  source: 'snapshot' | 'change';
  asOf: string;
}
interface ChangeBody {
  changeId: string;
  state: string;
  oldAmount: string | null;
  requestedAmount: string | null;
  newAmount: string | null;
  requestedAt: string;
  appliedAt: string | null;
  changedBy: { key: string; principal: { id: string; name: string; verified: boolean } | null };
}

let host: LocalHost;
let sandbox: Sandbox;

async function send(
  path: string,
  init: { method?: string; key?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${host.url}/api${path}`, {
    method: init.method ?? 'GET',
    headers: { 'x-functions-key': init.key ?? FUNCTION_KEY, ...init.headers },
    body: init.body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
const json = <T>(answer: Answer) => JSON.parse(answer.text) as T;
const put = (customerId: string, body: string, headers: Record<string, string> = {}) =>
  send(`/v1/customers/${customerId}/budget`, {
    method: 'PUT',
    key: MASTER_KEY,
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
  });
const budgetOf = async (customerId: string) => {
  const answer = await send(`/v1/customers/${customerId}/budget`);
  expect(answer.status).toBe(200);
  expectConforms(BUDGET, 'get', answer);
  return { answer, body: json<{ data: BudgetBody }>(answer).data };
};
const changesOf = async (customerId: string) => {
  const answer = await send(`/v1/customers/${customerId}/budget/changes`, { key: MASTER_KEY });
  expect(answer.status).toBe(200);
  expectConforms(CHANGES, 'get', answer);
  return json<{ data: ChangeBody[] }>(answer).data;
};
/** The budget as Partner Center (the sandbox) holds it, read straight from its usagebudget. */
const partnerCenterBudget = async (customerId: string) => {
  const res = await fetch(`${sandbox.baseUrl}/v1/customers/${customerId}/usagebudget`, {
    headers: { Authorization: `Bearer ${sandbox.issueAppOnlyToken()}` },
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return /"amount":(null|[0-9.]+)/.exec(text)?.[1];
};
const patches = () =>
  sandbox.counters.snapshot().requests['PATCH /v1/customers/{customerId}/usagebudget'] ?? {};

async function snapshot(): Promise<string> {
  const requested = await send('/v1/snapshots', { method: 'POST', key: MASTER_KEY });
  expect(requested.status).toBe(202);
  const runId = json<{ data: { runId: string } }>(requested).data.runId;
  let state = 'queued';
  for (let i = 0; i < 20 && (state === 'queued' || state === 'running'); i++) {
    await host.runTimer((resumeTimer as RegisteredFunction).name);
    const runs = json<{ data: Array<{ runId: string; state: string }> }>(
      await send('/v1/snapshots', { key: MASTER_KEY }),
    );
    state = runs.data.find((r) => r.runId === runId)?.state ?? 'missing';
  }
  expect(state).toBe('succeeded');
  return runId;
}

/** The i-th sandbox customer with (or without) a budget. */
function customer(hasBudget: boolean, nth = 0): string {
  const found = Array.from({ length: CUSTOMERS }, (_, i) => sandbox.data.customer(i)).filter(
    (c) => (c.budget !== undefined) === hasBudget,
  )[nth];
  if (!found)
    throw new Error(`the sandbox has no ${nth}th customer ${hasBudget ? 'with' : 'without'} a budget`);
  return found.id;
}

beforeAll(async () => {
  if (!resumeTimer)
    throw new Error(`No timer with schedule ${RESUME_SCHEDULE} is registered in src/index.ts`);
  sandbox = await startSandbox({ port: 0, customers: CUSTOMERS });
  Object.assign(process.env, {
    PARTNER_CENTER_BASE_URL: sandbox.baseUrl,
    PARTNER_CENTER_AUTHORITY_HOST: sandbox.baseUrl,
    PARTNER_CENTER_TENANT_ID: SANDBOX_DEFAULTS.tenantId,
    PARTNER_CENTER_CLIENT_ID: SANDBOX_DEFAULTS.clientId,
    PARTNER_CENTER_CLIENT_SECRET: SANDBOX_DEFAULTS.clientSecret,
    PARTNER_CENTER_REFRESH_TOKEN: SANDBOX_DEFAULTS.refreshToken,
    PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
    // A refused or failing PATCH is retried twice, so a storm ends in seconds.
    PARTNER_CENTER_MAX_RETRIES: '2',
    KEY_VAULT_URI: '',
    STORAGE_CONNECTION_STRING: azuriteConnectionString(),
    STORAGE_TABLE_ENDPOINT: '',
    TABLE_NAME_PREFIX: uniqueTablePrefix('budget'),
  });
  for (const spec of SETTINGS)
    if (spec.default && !process.env[spec.name]) process.env[spec.name] = spec.default;
  resetSettingsCache();
  resetDependencies();
  host = await startLocalHost({
    port: 0,
    functionKey: FUNCTION_KEY,
    masterKey: MASTER_KEY,
    env: process.env,
    timers: false,
    log: () => undefined,
  });
  await snapshot();
}, 120_000);

afterAll(async () => {
  await host?.close();
  await sandbox?.close();
  resetDependencies();
});

afterEach(() => {
  sandbox.faults.clear();
  sandbox.setWriteAccess(true);
  sandbox.clock.resume();
  sandbox.limits.set({ customerPerMinute: 0, countRejected: true });
});

describe('GET …/budget (function key, from the cache)', () => {
  test('when a snapshotted customer is read, then its budget is the one Partner Center sent, exactly, and no Partner Center call is made', async () => {
    const id = customer(true);
    sandbox.counters.reset();
    const { answer, body } = await budgetOf(id);
    expect(sandbox.counters.snapshot().requests).toEqual({});
    const summary = json<{ snapshot: { runId: string }; data: { budget: string } }>(
      await send(`/v1/customers/${id}/usage-summary`),
    );
    expect(body).toMatchObject({ customerId: id, amount: summary.data.budget, source: 'snapshot' });
    expect(compareDecimal(body.amount as string, String(sandbox.data.findCustomer(id)?.budget))).toBe(0);
    expect(answer.headers.get('x-snapshot-run-id')).toBe(summary.snapshot.runId);
    expect(answer.headers.get('cache-control')).toBe('private, no-cache');
    const again = await send(`/v1/customers/${id}/budget`, {
      headers: { 'If-None-Match': answer.headers.get('etag') as string },
    });
    expect(again.status).toBe(304);
  });

  test('when a customer without a budget is read, then amount is null', async () => {
    expect((await budgetOf(customer(false))).body).toMatchObject({ amount: null, source: 'snapshot' });
  });

  test('when the customer is unknown or the id is not a GUID, then typed 404 and 400', async () => {
    const unknown = await send('/v1/customers/00000000-0000-4000-8000-000000000000/budget');
    expect([unknown.status, json<{ error: { code: string } }>(unknown).error.code]).toEqual([
      404,
      'CustomerNotFound',
    ]);
    const invalid = await send('/v1/customers/not-a-guid/budget');
    expect([invalid.status, json<{ error: { code: string } }>(invalid).error.code]).toEqual([
      400,
      'InvalidCustomerId',
    ]);
  });

  test('when a wrong method is sent with a function key, then 405 naming GET and PUT; OPTIONS lists them', async () => {
    const id = customer(true);
    const deleted = await send(`/v1/customers/${id}/budget`, { method: 'DELETE' });
    expect(deleted.status).toBe(405);
    expect(deleted.headers.get('allow')).toBe('GET, HEAD, PUT, OPTIONS');
    const options = await send(`/v1/customers/${id}/budget`, { method: 'OPTIONS' });
    expect([options.status, options.headers.get('allow')]).toEqual([204, 'GET, HEAD, PUT, OPTIONS']);
  });
});

describe('PUT …/budget (master key only)', () => {
  test('when a function key or no key is used, then 401 and Partner Center is not called', async () => {
    const id = customer(true, 1);
    sandbox.counters.reset();
    for (const key of [FUNCTION_KEY, '']) {
      const answer = await send(`/v1/customers/${id}/budget`, {
        method: 'PUT',
        key,
        headers: { 'Content-Type': 'application/json' },
        body: '{"amount":"1"}',
      });
      expect(answer.status).toBe(401);
    }
    expect(patches()).toEqual({});
    const changes = await send(`/v1/customers/${id}/budget/changes`);
    expect(changes.status).toBe(401);
  });

  test('when the master key sets a budget, then Partner Center has it, the cache serves it and the change is recorded', async () => {
    const id = customer(true, 1);
    const before = (await budgetOf(id)).body;
    const answer = await put(id, '{"amount":"1234.56"}');
    expect(answer.status).toBe(200);
    expectConforms(BUDGET, 'put', answer);
    const { data } = json<{ data: { budget: BudgetBody; change: ChangeBody } }>(answer);
    expect(data.budget).toMatchObject({ customerId: id, amount: '1234.56', source: 'change' });
    expect(data.change).toMatchObject({
      state: 'applied',
      oldAmount: before.amount,
      requestedAmount: '1234.56',
      newAmount: '1234.56',
      changedBy: { key: 'master', principal: null },
    });
    expect(await partnerCenterBudget(id)).toBe('1234.56');

    const after = (await budgetOf(id)).body;
    expect(after).toEqual({
      customerId: id,
      amount: '1234.56',
      source: 'change',
      asOf: data.change.appliedAt,
    });
    const changes = await changesOf(id);
    expect(changes[0]).toEqual(data.change);
  });

  test('when changes follow each other, then the trail lists them newest first, each with the amount before it, and null removes the budget', async () => {
    const id = customer(true, 2);
    const original = (await budgetOf(id)).body.amount;
    expect((await put(id, '{"amount":"10"}')).status).toBe(200);
    expect((await put(id, '{"amount":"20.5"}')).status).toBe(200);
    expect((await put(id, '{"amount":null}')).status).toBe(200);
    expect(await partnerCenterBudget(id)).toBe('null');
    expect((await budgetOf(id)).body).toMatchObject({ amount: null, source: 'change' });
    const changes = await changesOf(id);
    expect(changes.map((c) => [c.oldAmount, c.requestedAmount, c.newAmount])).toEqual([
      ['20.5', null, null],
      ['10', '20.5', '20.5'],
      [original, '10', '10'],
    ]);
    // Paged with a signed token.
    const first = json<{ data: ChangeBody[]; continuationToken: string }>(
      await send(`/v1/customers/${id}/budget/changes?limit=2`, { key: MASTER_KEY }),
    );
    expect(first.data.map((c) => c.changeId)).toEqual(changes.slice(0, 2).map((c) => c.changeId));
    const second = json<{ data: ChangeBody[]; continuationToken: string | null }>(
      await send(`/v1/customers/${id}/budget/changes?limit=2&continuationToken=${first.continuationToken}`, {
        key: MASTER_KEY,
      }),
    );
    expect(second.data.map((c) => c.changeId)).toEqual([changes[2].changeId]);
    expect(second.continuationToken).toBeNull();
  });

  test('when the request carries App Service principal headers, then the change records them, unverified outside App Service Authentication', async () => {
    const id = customer(false, 1);
    const answer = await put(id, '{"amount":"500"}', {
      'x-ms-client-principal-id': '6f1c7c1e-aaaa-4bbb-8ccc-123456789abc',
      'x-ms-client-principal-name': 'ops@contoso.example',
      'x-ms-client-principal-idp': 'aad',
    });
    expect(answer.status).toBe(200);
    expect((await changesOf(id))[0].changedBy).toEqual({
      key: 'master',
      principal: {
        id: '6f1c7c1e-aaaa-4bbb-8ccc-123456789abc',
        name: 'ops@contoso.example',
        identityProvider: 'aad',
        verified: false,
      },
    });
  });

  test.each([
    ['a number amount', '{"amount":100}', 400, 'InvalidBudgetAmount'],
    ['a negative amount', '{"amount":"-1"}', 400, 'InvalidBudgetAmount'],
    ['seven decimals', '{"amount":"1.0000001"}', 400, 'InvalidBudgetAmount'],
    ['sixteen digits', '{"amount":"1234567890123456"}', 400, 'InvalidBudgetAmount'],
    ['an exponent', '{"amount":"1e3"}', 400, 'InvalidBudgetAmount'],
    ['a leading zero', '{"amount":"01"}', 400, 'InvalidBudgetAmount'],
    ['spaces', '{"amount":" 1"}', 400, 'InvalidBudgetAmount'],
    ['an unknown field', '{"amount":"1","currency":"EUR"}', 400, 'InvalidBody'],
    ['no amount', '{}', 400, 'InvalidBody'],
    ['an array', '["1"]', 400, 'InvalidBody'],
    ['not JSON', 'amount=1', 400, 'InvalidBody'],
    ['an empty body', '', 400, 'InvalidBody'],
  ])(
    'when the body has %s (%s), then %i %s and Partner Center is not called',
    async (_case, body, status, code) => {
      const id = customer(true, 3);
      sandbox.counters.reset();
      const before = await budgetOf(id);
      const answer = await put(id, body);
      expect([answer.status, json<{ error: { code: string } }>(answer).error.code]).toEqual([status, code]);
      expectConforms(BUDGET, 'put', answer);
      expect(patches()).toEqual({});
      expect((await budgetOf(id)).answer.text).toBe(before.answer.text);
    },
  );

  test('when the body is not declared JSON, then 415; an unknown customer is 404 without a Partner Center call', async () => {
    const id = customer(true, 3);
    sandbox.counters.reset();
    const plain = await put(id, '{"amount":"1"}', { 'Content-Type': 'text/plain' });
    expect([plain.status, json<{ error: { code: string } }>(plain).error.code]).toEqual([
      415,
      'UnsupportedMediaType',
    ]);
    expectConforms(BUDGET, 'put', plain);
    const unknown = await put('00000000-0000-4000-8000-000000000000', '{"amount":"1"}');
    expect([unknown.status, json<{ error: { code: string } }>(unknown).error.code]).toEqual([
      404,
      'CustomerNotFound',
    ]);
    expect(patches()).toEqual({});
  });
});

describe('a PUT Partner Center does not take changes nothing here', () => {
  async function expectUnchanged(id: string, run: () => Promise<Answer>): Promise<Answer> {
    const before = await budgetOf(id);
    const trail = await changesOf(id);
    const pcBefore = await partnerCenterBudget(id);
    const answer = await run();
    sandbox.faults.clear();
    sandbox.setWriteAccess(true);
    sandbox.clock.resume();
    sandbox.limits.set({ customerPerMinute: 0, countRejected: true });
    expect((await budgetOf(id)).answer.text).toBe(before.answer.text);
    expect(await changesOf(id)).toEqual(trail);
    expect(await partnerCenterBudget(id)).toBe(pcBefore);
    return answer;
  }

  test('when Partner Center answers 403, then 502 PartnerCenterRefused and the cached budget and trail are unchanged', async () => {
    const id = customer(true, 0);
    const answer = await expectUnchanged(id, async () => {
      sandbox.setWriteAccess(false);
      return put(id, '{"amount":"777"}');
    });
    expect(answer.status).toBe(502);
    expectConforms(BUDGET, 'put', answer);
    const error = json<{ error: { code: string; message: string } }>(answer).error;
    expect(error.code).toBe('PartnerCenterRefused');
    expect(error.message).toContain('403');
    // 403 is not retried.
    expect(patches()['403']).toBe(1);
  });

  test('when Partner Center answers 429 to every attempt, then 503 PartnerCenterThrottled with Retry-After and nothing changes', async () => {
    const id = customer(true, 0);
    const token = sandbox.issueAppOnlyToken();
    const answer = await expectUnchanged(id, async () => {
      // One call a second for this customer, the clock stopped: drain the bucket, so every attempt meets 429.
      sandbox.clock.freeze();
      sandbox.limits.set({ customerPerMinute: 60, countRejected: false });
      await Promise.all(
        Array.from({ length: 60 }, () =>
          fetch(`${sandbox.baseUrl}/v1/customers/${id}/usagebudget`, {
            headers: { Authorization: `Bearer ${token}` },
          }),
        ),
      );
      sandbox.counters.reset();
      return put(id, '{"amount":"888"}');
    });
    expect([answer.status, answer.headers.get('retry-after')]).toEqual([503, '60']);
    expectConforms(BUDGET, 'put', answer);
    expect(json<{ error: { code: string } }>(answer).error.code).toBe('PartnerCenterThrottled');
    expect(patches()).toEqual({ '429': 3 });
  }, 30_000);

  test('when Partner Center answers 500 to every attempt, then 502 PartnerCenterUnavailable and nothing changes', async () => {
    const id = customer(true, 0);
    const answer = await expectUnchanged(id, async () => {
      sandbox.counters.reset();
      sandbox.faults.set({ status500: 1 });
      return put(id, '{"amount":"999"}');
    });
    expect(answer.status).toBe(502);
    expect(json<{ error: { code: string } }>(answer).error.code).toBe('PartnerCenterUnavailable');
    expect(patches()).toEqual({ '500': 3 });
  }, 30_000);
});

test('when a snapshot runs after a change, then the budget comes from the snapshot again, with the amount Partner Center kept', async () => {
  const id = customer(true, 4);
  expect((await put(id, '{"amount":"4321.5"}')).status).toBe(200);
  expect((await budgetOf(id)).body.source).toBe('change');
  const runId = await snapshot();
  const { answer, body } = await budgetOf(id);
  expect(body.source).toBe('snapshot');
  expect(compareDecimal(body.amount as string, '4321.5')).toBe(0);
  expect(answer.headers.get('x-snapshot-run-id')).toBe(runId);
}, 120_000);

describe('the partner summary', () => {
  test("when it is read, then customerTotals sum every customer's monthly record per currency, Azure plans included, exactly as the sandbox's figures", async () => {
    const answer = await send('/v1/partner/usage-summary');
    expect(answer.status).toBe(200);
    expectConforms('/v1/partner/usage-summary', 'get', answer);
    const { snapshot, data } = json<{
      snapshot: { takenAt: string };
      data: {
        totalCost: string;
        customerTotals: {
          byCurrency: Array<{
            currencyCode: string | null;
            currencyLocale: string | null;
            totalCost: string;
            customers: number;
            azurePlanCustomers: number;
          }>;
          usd: { totalCost: string; customers: number };
          customers: number;
          customersWithoutTotal: number;
        };
      };
    }>(answer);
    // The sandbox's own figures (exact integers at 18 decimals), summed here without the app's code.
    const expected = new Map<string, { total: bigint; customers: number; azurePlanCustomers: number }>();
    let usd = 0n;
    let usdCustomers = 0;
    let azurePlans = 0;
    for (let i = 0; i < CUSTOMERS; i++) {
      const usage = sandbox.customerUsage(i, snapshot.takenAt);
      const c = usage.customer;
      const plan = c.kind === 'azurePlan';
      const key = plan ? `code ${c.currencyCode}` : `locale ${c.currencyLocale}`;
      const group = expected.get(key) ?? { total: 0n, customers: 0, azurePlanCustomers: 0 };
      group.total += usage.totalCost;
      group.customers++;
      if (plan) {
        group.azurePlanCustomers++;
        azurePlans++;
        usd += usage.usdTotalCost;
        usdCustomers++;
      }
      expected.set(key, group);
    }
    expect(azurePlans).toBeGreaterThan(0);
    expect(azurePlans).toBeLessThan(CUSTOMERS);
    const totals = data.customerTotals;
    expect(totals).toMatchObject({ customers: CUSTOMERS, customersWithoutTotal: 0 });
    const served = new Map(
      totals.byCurrency.map((t) => [
        t.currencyCode ? `code ${t.currencyCode}` : `locale ${t.currencyLocale}`,
        t,
      ]),
    );
    expect([...served.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, group] of expected) {
      const t = served.get(key);
      expect({ key, customers: t?.customers, azurePlanCustomers: t?.azurePlanCustomers }).toEqual({
        key,
        customers: group.customers,
        azurePlanCustomers: group.azurePlanCustomers,
      });
      expect({ key, equal: compareDecimal(t?.totalCost ?? 'x', `${group.total}e-${MONEY_SCALE}`) }).toEqual({
        key,
        equal: 0,
      });
    }
    expect(totals.usd.customers).toBe(usdCustomers);
    expect(compareDecimal(totals.usd.totalCost, `${usd}e-${MONEY_SCALE}`)).toBe(0);
    // Partner Center's own figure (Azure plans left out) stays as it sent it, apart from the app's totals.
    const pc = await fetch(`${sandbox.baseUrl}/v1/usagesummary`, {
      headers: { Authorization: `Bearer ${sandbox.issueAccessToken()}` },
    });
    const pcTotal = /"totalCost":([0-9.]+)/.exec(await pc.text())?.[1];
    expect(data.totalCost).toBe(pcTotal);
    expect(totals.byCurrency.some((t) => compareDecimal(t.totalCost, data.totalCost) === 0)).toBe(false);
  });
});

test('when two PUTs race and the one Partner Center took first completes last, then the cache ends with what Partner Center holds, and both are recorded', async () => {
  const id = customer(true, 5);
  // A's PATCH is applied at once but its answer stalls; B's is applied after it and answers at once.
  sandbox.faults.set({ slowBody: 1, slowBodyMs: 1500 });
  sandbox.counters.reset();
  const first = put(id, '{"amount":"111"}');
  const deadline = Date.now() + 10_000;
  while (patches()['200'] === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(patches()).toEqual({ '200': 1 });
  sandbox.faults.clear();
  const second = await put(id, '{"amount":"222"}');
  expect(second.status).toBe(200);
  const a = await first;
  expect(a.status).toBe(200);
  expect(await partnerCenterBudget(id)).toBe('222');
  // A's change is what Partner Center answered to A; the cache took Partner Center's budget after it.
  const answered = json<{ data: { budget: BudgetBody; change: ChangeBody } }>(a).data;
  expect(answered.change).toMatchObject({ state: 'applied', requestedAmount: '111', newAmount: '111' });
  expect(answered.budget).toMatchObject({ amount: '222', source: 'change' });
  expect((await budgetOf(id)).body).toMatchObject({ amount: '222', source: 'change' });
  // Newest request first.
  expect((await changesOf(id)).map((c) => [c.state, c.newAmount])).toEqual([
    ['applied', '222'],
    ['applied', '111'],
  ]);
}, 30_000);
