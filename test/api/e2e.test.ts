import fs from 'node:fs';
import path from 'node:path';
import { resetSettingsCache, SETTINGS } from '../../src/config/settings';
import '../../src/index';
import { registeredFunctions, triggerOf, type RegisteredFunction } from '../../dev/localHost/functionsCore';
import { freePort } from '../../dev/localHost/freePort';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { startSandboxFor, type RunningSandbox } from '../../dev/localHost/sandbox';
import { SANDBOX_DEFAULTS } from '../../dev/sandbox/defaults';
import { compareDecimal } from '../../src/domain/decimal';
import { azuriteConnectionString, uniqueTablePrefix } from '../support/tables';
import { expectConforms } from './support/openapiValidator';

/**
 * End to end: the app's registrations (src/index.ts) served by the local host, over the real
 * composition root, against Azurite and the Partner Center sandbox. A snapshot is asked for over
 * HTTP (POST /api/v1/snapshots) and driven by the app's own resume timer, then every route is read
 * over HTTP and each answer is checked against the OpenAPI document.
 *
 * Relies on the snapshot's resume timer (schedule `%SNAPSHOT_RESUME_SCHEDULE%`) continuing the
 * queued run, as it does in Azure.
 */
const RESUME_SCHEDULE = '%SNAPSHOT_RESUME_SCHEDULE%';
const resumeTimer = registeredFunctions().find((fn: RegisteredFunction) => {
  const trigger = triggerOf(fn);
  return trigger.type.toLowerCase() === 'timertrigger' && trigger.schedule === RESUME_SCHEDULE;
});

const FUNCTION_KEY = 'e2e-function-key';
const MASTER_KEY = 'e2e-master-key';
const CUSTOMERS = 12;

describe('after a snapshot of the sandbox', () => {
  let host: LocalHost;
  let sandbox: RunningSandbox;
  let runId: string;

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${host.url}${path}`, {
      headers: { 'x-functions-key': FUNCTION_KEY, ...headers },
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const json = <T>(res: { text: string }) => JSON.parse(res.text) as T;

  beforeAll(async () => {
    if (!resumeTimer)
      throw new Error(`No timer with schedule ${RESUME_SCHEDULE} is registered in src/index.ts`);
    const base = `http://127.0.0.1:${await freePort()}`;
    Object.assign(process.env, {
      PARTNER_CENTER_BASE_URL: base,
      PARTNER_CENTER_AUTHORITY_HOST: base,
      PARTNER_CENTER_TENANT_ID: SANDBOX_DEFAULTS.tenantId,
      PARTNER_CENTER_CLIENT_ID: SANDBOX_DEFAULTS.clientId,
      PARTNER_CENTER_CLIENT_SECRET: SANDBOX_DEFAULTS.clientSecret,
      PARTNER_CENTER_REFRESH_TOKEN: SANDBOX_DEFAULTS.refreshToken,
      PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
      KEY_VAULT_URI: '',
      STORAGE_CONNECTION_STRING: azuriteConnectionString(),
      STORAGE_TABLE_ENDPOINT: '',
      TABLE_NAME_PREFIX: uniqueTablePrefix('e2e'),
    });
    // The host resolves %NAME% schedules from the environment, as Azure does from app settings.
    for (const spec of SETTINGS)
      if (spec.default && !process.env[spec.name]) process.env[spec.name] = spec.default;
    resetSettingsCache();
    sandbox = await startSandboxFor(process.env, { customers: CUSTOMERS });
    host = await startLocalHost({
      port: 0,
      functionKey: FUNCTION_KEY,
      masterKey: MASTER_KEY,
      env: process.env,
      timers: false,
      log: () => undefined,
    });

    const requested = await fetch(`${host.url}/api/v1/snapshots`, {
      method: 'POST',
      headers: { 'x-functions-key': MASTER_KEY },
    });
    expect(requested.status).toBe(202);
    runId = ((await requested.json()) as { data: { runId: string } }).data.runId;
    let state = 'queued';
    for (let i = 0; i < 20 && (state === 'queued' || state === 'running'); i++) {
      await host.runTimer(resumeTimer.name);
      const runs = await fetch(`${host.url}/api/v1/snapshots`, {
        headers: { 'x-functions-key': MASTER_KEY },
      });
      const body = (await runs.json()) as { data: Array<{ runId: string; state: string }> };
      state = body.data.find((r) => r.runId === runId)?.state ?? 'missing';
    }
    expect(state).toBe('succeeded');
  }, 120_000);

  afterAll(async () => {
    await host?.close();
    await sandbox?.close();
  });

  test('when the partner summary is read, then it comes from that run, fresh, and conforms', async () => {
    const res = await get('/api/v1/partner/usage-summary');
    expect(res.status).toBe(200);
    expectConforms('/v1/partner/usage-summary', 'get', res);
    const body = json<{ snapshot: { runId: string; stale: boolean } }>(res);
    expect(body.snapshot).toMatchObject({ runId, stale: false });
  });

  test('when every route is walked from the customers list, then each answer conforms to the document', async () => {
    const customers: Array<{ customerId: string }> = [];
    let token: string | null = null;
    do {
      const res = await get(`/api/v1/customers?limit=5${token ? `&continuationToken=${token}` : ''}`);
      expect(res.status).toBe(200);
      expectConforms('/v1/customers', 'get', res);
      const page = json<{ data: Array<{ customerId: string }>; continuationToken: string | null }>(res);
      customers.push(...page.data);
      token = page.continuationToken;
    } while (token);
    expect(customers).toHaveLength(CUSTOMERS);
    expect(new Set(customers.map((c) => c.customerId)).size).toBe(CUSTOMERS);

    let resourcesSeen = 0;
    let groupsSeen = 0;
    for (const { customerId } of customers) {
      const base = `/api/v1/customers/${customerId}`;
      const summary = await get(`${base}/usage-summary`);
      expect(summary.status).toBe(200);
      expectConforms('/v1/customers/{customerId}/usage-summary', 'get', summary);
      const history = await get(`${base}/history`);
      expectConforms('/v1/customers/{customerId}/history', 'get', history);
      expect(json<{ data: Array<{ runId: string }> }>(history).data[0]?.runId).toBe(runId);
      const subscriptions = await get(`${base}/subscriptions`);
      expectConforms('/v1/customers/{customerId}/subscriptions', 'get', subscriptions);
      for (const s of json<{ data: Array<{ subscriptionId: string }> }>(subscriptions).data) {
        const resources = await get(`${base}/subscriptions/${s.subscriptionId}/resources`);
        expect(resources.status).toBe(200);
        expectConforms(
          '/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources',
          'get',
          resources,
        );
        resourcesSeen += json<{ data: { resources: unknown[] } }>(resources).data.resources.length;
        const csv = await get(`${base}/subscriptions/${s.subscriptionId}/resources?format=csv`);
        expectConforms('/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources', 'get', csv);
        const subHistory = await get(`${base}/subscriptions/${s.subscriptionId}/history`);
        expectConforms(
          '/v1/customers/{customerId}/subscriptions/{subscriptionId}/history',
          'get',
          subHistory,
        );
        // The Azure-plan routes (a legacy subscription answers them too, with empty lists).
        const sub = '/v1/customers/{customerId}/subscriptions/{subscriptionId}';
        for (const route of ['usage-summary', 'meters', 'resource-groups', 'azure-subscriptions']) {
          const res = await get(`${base}/subscriptions/${s.subscriptionId}/${route}`);
          expect({ route, status: res.status }).toEqual({ route, status: 200 });
          expectConforms(`${sub}/${route}`, 'get', res);
        }
        const groups = json<{ data: { resourceGroups: Array<{ resourceGroup: string | null }> } }>(
          await get(`${base}/subscriptions/${s.subscriptionId}/resource-groups`),
        ).data.resourceGroups;
        // Group names hold `.`, `(`, `)` and letters like Å: percent-encoded in the path.
        for (const name of new Set(groups.map((g) => g.resourceGroup).filter((g) => g !== null))) {
          const res = await get(
            `${base}/subscriptions/${s.subscriptionId}/resource-groups/${encodeURIComponent(name)}/history`,
          );
          expect({ name, status: res.status }).toEqual({ name, status: 200 });
          expectConforms(`${sub}/resource-groups/{resourceGroup}/history`, 'get', res);
          expect(json<{ data: Array<{ runId: string }> }>(res).data[0]?.runId).toBe(runId);
          groupsSeen++;
        }
      }
    }
    expect(resourcesSeen).toBeGreaterThan(0);
    expect(groupsSeen).toBeGreaterThan(0);
  }, 60_000);

  test('when a legacy customer is read on every route, then usdTotalCost is null everywhere; an Azure plan has it everywhere', async () => {
    type Usd = { currencyCode: string | null; usdTotalCost: string | null };
    const list = json<{ data: Array<Usd & { customerId: string }> }>(
      await get('/api/v1/customers?limit=1000'),
    );
    const kinds = new Set<string>();
    for (const customer of list.data) {
      const base = `/api/v1/customers/${customer.customerId}`;
      const summary = json<{ data: Usd | null }>(await get(`${base}/usage-summary`)).data;
      const subscriptions = json<{ data: Usd[] }>(await get(`${base}/subscriptions`)).data;
      const history = json<{ data: Usd[] }>(await get(`${base}/history`)).data;
      const legacy = customer.currencyCode === null;
      kinds.add(legacy ? 'legacy' : 'azurePlan');
      for (const record of [customer, ...(summary ? [summary] : []), ...subscriptions, ...history]) {
        // Legacy: Partner Center's placeholder 0 is no USD figure. Azure plan: always a figure.
        expect({ legacy, usd: record.usdTotalCost === null }).toEqual({ legacy, usd: legacy });
      }
    }
    expect([...kinds].sort()).toEqual(['azurePlan', 'legacy']);
  }, 60_000);

  test('when the billing period is served, then its end is exclusive, as docs/api.md shows it', async () => {
    const served = json<{ snapshot: { billingPeriod: { start: string; end: string } } }>(
      await get('/api/v1/customers?limit=1'),
    ).snapshot.billingPeriod;
    const documented = (
      JSON.parse(
        /```json\n([\s\S]*?)```/.exec(fs.readFileSync(path.join(__dirname, '../../docs/api.md'), 'utf8'))![1],
      ) as { snapshot: { billingPeriod: { start: string; end: string } } }
    ).snapshot.billingPeriod;
    // Both: a whole month, `end` the first instant after it.
    for (const period of [served, documented]) {
      const start = new Date(period.start);
      const next = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
      expect({ period, end: period.end }).toEqual({ period, end: next.toISOString() });
    }
  });

  test('when the OpenAPI document is fetched without a key, then 200, and docs/security.md lists it as anonymous', async () => {
    const res = await fetch(`${host.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const security = fs.readFileSync(path.join(__dirname, '../../docs/security.md'), 'utf8');
    const rows = security.split('\n').filter((line) => line.includes('`GET /api/v1/openapi.json`'));
    expect(rows).toHaveLength(1);
    expect(rows[0].split('|').map((cell) => cell.trim())[3]).toBe('anonymous');
  });

  test('when the list is filtered by overBudget=true, then every customer returned is above its budget, exactly', async () => {
    const res = await get('/api/v1/customers?overBudget=true&limit=1000');
    const body = json<{ data: Array<{ budget: string | null; totalCost: string }> }>(res);
    for (const c of body.data) expect(compareDecimal(c.totalCost, c.budget as string)).toBe(1);
  });

  test('when the customers list is downloaded as CSV, then one row per customer and a 304 on revalidation', async () => {
    const csv = await get('/api/v1/customers?limit=1000', { Accept: 'text/csv' });
    expect(csv.text.trimEnd().split('\r\n')).toHaveLength(CUSTOMERS + 1);
    const again = await get('/api/v1/customers?limit=1000', {
      Accept: 'text/csv',
      'If-None-Match': csv.headers.get('etag') as string,
    });
    expect(again.status).toBe(304);
  });

  test('when an unknown customer is asked for, then 404 CustomerNotFound', async () => {
    const res = await get('/api/v1/customers/0f8fad5b-d9cb-469f-a165-70867728950e/usage-summary');
    expect(res.status).toBe(404);
    expectConforms('/v1/customers/{customerId}/usage-summary', 'get', res);
    expect(json<{ error: { code: string } }>(res).error.code).toBe('CustomerNotFound');
  });
});
