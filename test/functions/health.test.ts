import { HttpRequest, InvocationContext, type HttpResponseInit } from '@azure/functions';
import { createHealthHandler, type Probe } from '../../src/api/health';
import { azuriteConnectionString, testTables } from '../support/tables';

const get = (query = '') => new HttpRequest({ method: 'GET', url: `http://localhost/api/health${query}` });
const bodyOf = (res: HttpResponseInit) => JSON.parse(res.body as string) as Record<string, unknown>;

function tablesProbe(connectionString: string) {
  const tables = testTables({ connectionString });
  return async (abortSignal: AbortSignal) => {
    await tables.service.listTables({ abortSignal }).byPage({ maxPageSize: 1 }).next();
  };
}

test('when Table Storage and the secret store answer, then 200 with the version and no secret', async () => {
  const handler = createHealthHandler({
    version: '9.9.9',
    probes: { tableStorage: tablesProbe(azuriteConnectionString()), secretStore: async () => undefined },
  });
  const res = await handler(get());
  expect(res.status).toBe(200);
  expect(res.headers).toMatchObject({ 'Content-Type': 'application/json; charset=utf-8' });
  const body = bodyOf(res) as { status: string; version: string; checks: Record<string, { ok: boolean }> };
  expect(body.status).toBe('ok');
  expect(body.version).toBe('9.9.9');
  expect(body.checks.tableStorage.ok).toBe(true);
  expect(JSON.stringify(body)).not.toMatch(/AccountKey|devstoreaccount1|Eby8/);
});

test('when Table Storage does not answer, then 503 naming it, without the connection string', async () => {
  const unreachable =
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;';
  const handler = createHealthHandler({
    version: '1.0.0',
    timeoutMs: 1_500,
    probes: { tableStorage: tablesProbe(unreachable), secretStore: async () => undefined },
  });
  const res = await handler(get());
  expect(res.status).toBe(503);
  const body = bodyOf(res) as { failed: string[] };
  expect(body.failed).toEqual(['tableStorage']);
  expect(JSON.stringify(body)).not.toMatch(/AccountKey|Eby8|127\.0\.0\.1/);
});

test('when the registered health function is invoked with the real request classes, then it reports both parts', async () => {
  process.env.STORAGE_CONNECTION_STRING = azuriteConnectionString();
  process.env.PARTNER_CENTER_TENANT_ID = '11111111-2222-4333-8444-555555555555';
  process.env.PARTNER_CENTER_CLIENT_ID = '66666666-7777-4888-9999-aaaaaaaaaaaa';
  process.env.PARTNER_CENTER_CLIENT_SECRET = 'sandbox-client-secret';
  process.env.PARTNER_CENTER_REFRESH_TOKEN = 'sandbox-refresh-token';
  const { registeredFunctions } = await import('../../dev/localHost/functionsCore');
  const { registerFunctions } = await import('../../src/functions/register');
  if (!registeredFunctions().some((f) => f.name === 'health')) registerFunctions({ only: ['health'] });
  const fn = registeredFunctions().find((f) => f.name === 'health');
  const res = (await fn?.handler(
    new HttpRequest({ method: 'GET', url: 'http://localhost/api/health' }),
    new InvocationContext({ functionName: 'health' }),
  )) as HttpResponseInit;
  expect(res.status).toBe(200);
  expect(Object.keys(bodyOf(res).checks as object).sort()).toEqual(['secretStore', 'tableStorage']);
});

test('when health is called with a method it does not serve, then 405 with Allow and a JSON error', async () => {
  const { registeredFunctions } = await import('../../dev/localHost/functionsCore');
  const { registerFunctions } = await import('../../src/functions/register');
  if (!registeredFunctions().some((f) => f.name === 'health')) registerFunctions({ only: ['health'] });
  const fn = registeredFunctions().find((f) => f.name === 'health');
  const res = (await fn?.handler(
    new HttpRequest({ method: 'POST', url: 'http://localhost/api/health' }),
    new InvocationContext({ functionName: 'health' }),
  )) as { status: number; headers: Record<string, string>; body: string };
  expect(res.status).toBe(405);
  expect(res.headers.Allow).toBe('GET, HEAD, OPTIONS');
  expect(JSON.parse(res.body).error.code).toBe('MethodNotAllowed');
});

describe('probe bounds', () => {
  const counting = (answer: (signal: AbortSignal) => Promise<void> = async () => undefined) => {
    const calls: AbortSignal[] = [];
    const probe: Probe = (signal) => {
      calls.push(signal);
      return answer(signal);
    };
    return { probe, calls };
  };

  test('when callers come within the cache window, then one probe round answers them; after it, a new one runs', async () => {
    let now = 1_000_000;
    const { probe, calls } = counting();
    const handler = createHealthHandler({
      version: '1',
      probes: { a: probe },
      cacheMs: 30_000,
      now: () => now,
    });
    await Promise.all([handler(get()), handler(get()), handler(get())]);
    expect(calls).toHaveLength(1);
    now += 29_999;
    await handler(get());
    expect(calls).toHaveLength(1);
    now += 1;
    await handler(get());
    expect(calls).toHaveLength(2);
  });

  test('when a probe runs past the timeout, then its signal aborts, the caller gets 503 Timeout, and the failure is cached too', async () => {
    const { probe, calls } = counting(
      (signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
    );
    const handler = createHealthHandler({ version: '1', probes: { vault: probe }, timeoutMs: 50 });
    const res = await handler(get());
    expect(res.status).toBe(503);
    expect(bodyOf(res).checks).toMatchObject({ vault: { ok: false, error: 'Timeout' } });
    expect(calls[0].aborted).toBe(true);
    await handler(get());
    expect(calls).toHaveLength(1);
  });

  test('when liveness is asked, then no probe runs', async () => {
    const { probe, calls } = counting();
    const handler = createHealthHandler({ version: '2', probes: { a: probe } });
    const res = await handler(get('?probe=live'));
    expect(res.status).toBe(200);
    expect(bodyOf(res)).toEqual({ status: 'ok', version: '2', failed: [], checks: {} });
    expect(calls).toHaveLength(0);
  });
});
