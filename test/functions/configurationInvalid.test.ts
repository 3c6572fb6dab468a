import { SETTINGS } from '../../src/config/settings';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { azuriteConnectionString, testTables, uniqueTablePrefix } from '../support/tables';

/**
 * The whole app (src/index.ts, as the worker loads it) with bad settings, served over HTTP by the
 * local host, which runs the app's pre-invocation hooks as the worker does.
 */
const SECRET = 'client-secret-value-that-must-not-be-logged';
const PREFIX = uniqueTablePrefix('badconfig');
const loadLines: string[] = [];
const hostLines: string[] = [];
let host: LocalHost;

beforeAll(async () => {
  for (const spec of SETTINGS) if (spec.default) process.env[spec.name] = spec.default;
  Object.assign(process.env, {
    STORAGE_CONNECTION_STRING: azuriteConnectionString(),
    TABLE_NAME_PREFIX: PREFIX,
    PARTNER_CENTER_TENANT_ID: 'not-a-guid',
    PARTNER_CENTER_CLIENT_SECRET: SECRET,
    PARTNER_CENTER_REFRESH_TOKEN: 'refresh-token-value-that-must-not-be-logged',
    RETENTION_DAYS: '-3',
  });
  delete process.env.PARTNER_CENTER_CLIENT_ID;
  const capture = (...args: unknown[]) => void loadLines.push(args.map(String).join(' '));
  const error = jest.spyOn(console, 'error').mockImplementation(capture);
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    capture(String(chunk));
    return true;
  });
  try {
    await import('../../src/index');
  } finally {
    error.mockRestore();
    write.mockRestore();
  }
  host = await startLocalHost({
    port: 0,
    functionKey: 'fkey',
    masterKey: 'mkey',
    timers: false,
    env: process.env,
    log: (line) => hostLines.push(line),
  });
});
afterAll(() => host?.close());

test('when the app loads with bad settings, then it logs one line naming every bad one and no value', () => {
  expect(loadLines).toHaveLength(1);
  const [line] = loadLines;
  expect(line).toMatch(/^event=ConfigurationInvalid /);
  expect(line.trimEnd()).not.toContain('\n');
  for (const name of [
    'PARTNER_CENTER_TENANT_ID is not a GUID',
    'PARTNER_CENTER_CLIENT_ID is missing',
    'RETENTION_DAYS is not',
  ])
    expect(line).toContain(name);
  expect(line).not.toContain(SECRET);
  expect(line).not.toContain('not-a-guid');
});

test.each([
  ['/api/v1/customers', { 'x-functions-key': 'fkey' }],
  ['/api/v1/snapshots', { 'x-functions-key': 'mkey' }],
  ['/api/v1/openapi.json', {}],
  ['/api/health', {}],
  ['/api/no-such-route', {}],
])('when %s is called, then 503 ConfigurationInvalid as the JSON error body', async (path, headers) => {
  const res = await fetch(`${host.url}${path}`, { headers });
  expect(res.status).toBe(503);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('ConfigurationInvalid');
  expect(body.error.message).not.toMatch(/PARTNER_CENTER|RETENTION/);
});

test('when liveness is asked, then it still answers 200', async () => {
  const res = await fetch(`${host.url}/api/health?probe=live`);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { status: string }).status).toBe('ok');
});

test('when a timer fires, then it logs the same reason and ends without touching storage', async () => {
  await host.runTimer('snapshotTimer');
  await host.runTimer('retentionTimer');
  const timerLines = hostLines.filter((l) => l.includes('event=ConfigurationInvalid'));
  expect(timerLines).toHaveLength(2);
  expect(timerLines[0]).toContain('PARTNER_CENTER_TENANT_ID is not a GUID');
  expect(hostLines.filter((l) => / failed: /.test(l))).toEqual([]);
  const tables = testTables();
  const names: string[] = [];
  for await (const t of tables.service.listTables()) names.push(t.name ?? '');
  expect(names.filter((n) => n.startsWith(PREFIX))).toEqual([]);
});
