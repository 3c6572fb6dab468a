import { parse } from 'csv-parse/sync';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { fingerprint } from '../../src/api/continuationToken';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { azuriteConnectionString } from '../support/tables';
import { testRoot, type TestRoot } from './support/appRoot';
import { azuriteBackend } from './support/backends';
import { HISTORY_RUNS, populatedState } from './support/fixtures';

// A spreadsheet ends a row at CRLF, a bare LF or a bare CR alike; so does this reader.
const AS_A_SPREADSHEET = { record_delimiter: ['\r\n', '\n', '\r'] };

/**
 * Issue 15's hostile callers and hostile data, over HTTP against the app's registrations on the
 * local host and the real Table adapter on Azurite: CSV row and formula injection, and
 * continuation tokens forged from public values (the derived key the app used before).
 */
const signingKey = randomBytes(32);
let mockRoot:
  (TestRoot & { continuationTokenKeys: () => Promise<{ current: Buffer; accepted: Buffer[] }> }) | undefined;
jest.mock('../../src/app/dependencies', () => ({
  dependencies: () => {
    if (!mockRoot) throw new Error('test root not ready');
    return mockRoot;
  },
}));

const FUNCTION_KEY = 'hostile-function-key';
const INJECTED_NAME = '\n=1+1';
const FORMULA_DATE = '=HYPERLINK("https://example.com/x","x") 2026-12-04';
let host: LocalHost;

beforeAll(async () => {
  const state = populatedState();
  state.customers[1].record.name = INJECTED_NAME;
  state.customers[2].record.currencyCode = '=cmd|" /C calc"!A0';
  state.customers[2].record.currencyLocale = '@SUM(1+1)';
  state.customers[3].record.lastModifiedDate = FORMULA_DATE;
  state.customers[3].record.name = `x\r\n${'a'.repeat(3)},"=2+2"`;
  const backend = await azuriteBackend(state);
  // An older run's list, still in the table: a token of the current run must not reach it.
  await backend.usage.writer.recordCustomers(
    HISTORY_RUNS[2].runId,
    state.customers.slice(0, 3).map((c) => ({
      record: { ...c.record, name: 'older run' },
      takenAt: new Date(HISTORY_RUNS[2].takenAt),
      outcome: 'written',
      subscriptionsWritten: 0,
      subscriptionsFailed: 0,
      resourcesWritten: 0,
    })),
  );
  mockRoot = {
    ...testRoot(backend.usage),
    continuationTokenKeys: async () => ({ current: signingKey, accepted: [signingKey] }),
  };

  // The old key was derived from the settings the app reads; the forger needs the same.
  tablePrefix = mockRoot.settings.storage.tablePrefix;
  await import('../../src/index');
  host = await startLocalHost({
    port: 0,
    functionKey: FUNCTION_KEY,
    masterKey: 'hostile-master-key',
    timers: false,
    log: () => undefined,
  });
}, 60_000);
afterAll(() => host?.close());

let tablePrefix = '';
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${host.url}${path}`, { headers: { 'x-functions-key': FUNCTION_KEY, ...headers } });

describe('CSV', () => {
  test('when a customer is named "\\n=1+1", then the CSV download still has one row per customer and no cell is a formula', async () => {
    const res = await get('/api/v1/customers?limit=1000&format=csv');
    expect(res.status).toBe(200);
    const text = await res.text();
    const rows = parse(text, AS_A_SPREADSHEET) as string[][];
    const customers = populatedState().customers.length;
    expect(rows).toHaveLength(customers + 1);
    const byColumn = (name: string) => rows.slice(1).map((row) => row[rows[0].indexOf(name)]);
    expect(byColumn('name')).toContain(INJECTED_NAME);
    expect(byColumn('currencyCode')).toContain(`'=cmd|" /C calc"!A0`);
    expect(byColumn('currencyLocale')).toContain("'@SUM(1+1)");
    expect(byColumn('lastModifiedDate')).toContain(`'${FORMULA_DATE}`);
    for (const row of rows.slice(1)) {
      for (const cell of row) expect(cell).not.toMatch(/^[=+@\t\r]/);
    }
  });
});

describe('continuation tokens', () => {
  const customersBinding = { route: 'customers', ids: [], query: {} };
  const sdkToken = (partition: string, row: string) =>
    Buffer.from(JSON.stringify({ nextPartitionKey: partition, nextRowKey: row })).toString('base64');
  const listToken = (inner: Record<string, unknown>) =>
    Buffer.from(JSON.stringify(inner), 'utf8').toString('base64url');
  /** A token made as the app made them before: signed with a key derived from public values. */
  const forgedFromPublicValues = (storeToken: string) => {
    const key = createHash('sha256')
      .update('partner-usage-cache/continuation-token/v1\n')
      .update(azuriteConnectionString())
      .update('\n')
      .update(tablePrefix)
      .digest();
    const payload = Buffer.from(
      JSON.stringify({ v: 1, f: fingerprint(customersBinding), t: storeToken }),
    ).toString('base64url');
    return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
  };
  /** A token signed with the deployment's real key, as an insider holding it could make. */
  const signedWithRealKey = (storeToken: string) => {
    const payload = Buffer.from(
      JSON.stringify({ v: 2, f: fingerprint(customersBinding), x: Date.now() + 60_000, t: storeToken }),
    ).toString('base64url');
    return `${payload}.${createHmac('sha256', signingKey).update(payload).digest('base64url')}`;
  };
  const expect400 = async (token: string) => {
    const res = await get(`/api/v1/customers?continuationToken=${encodeURIComponent(token)}`);
    const body = await res.text();
    expect({ status: res.status, body }).toEqual({ status: 400, body: expect.any(String) });
    expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe('InvalidContinuationToken');
    expect(res.headers.get('x-snapshot-taken-at')).toBeNull();
  };

  test('when pages are followed with the issued token, then every customer comes once; with another filter, 400', async () => {
    const first = await get('/api/v1/customers?limit=3');
    const page1 = (await first.json()) as { data: Array<{ customerId: string }>; continuationToken: string };
    expect(page1.continuationToken).toEqual(expect.any(String));
    const second = await get(`/api/v1/customers?limit=10&continuationToken=${page1.continuationToken}`);
    expect(second.status).toBe(200);
    const page2 = (await second.json()) as { data: Array<{ customerId: string }> };
    expect(page1.data.length + page2.data.length).toBe(populatedState().customers.length);
    const filtered = await get(
      `/api/v1/customers?overBudget=true&continuationToken=${page1.continuationToken}`,
    );
    expect(filtered.status).toBe(400);
  });

  test('when a token is forged from public values to put CR/LF into X-Snapshot-Taken-At, then 400 and the header is not set', async () => {
    await expect400(
      forgedFromPublicValues(
        listToken({
          r: HISTORY_RUNS[0].runId,
          t: '2025-05-20T06:00:00Z\r\nX-Injected: 1',
          c: sdkToken('x', 'y'),
        }),
      ),
    );
  });

  test('when a token is forged from public values to reflect text, then 400', async () => {
    await expect400(
      forgedFromPublicValues(
        listToken({ r: HISTORY_RUNS[0].runId, t: '<script>alert(1)</script>', c: sdkToken('x', 'y') }),
      ),
    );
  });

  test("when a token is forged from public values to read an older run's list, then 400", async () => {
    await expect400(
      forgedFromPublicValues(
        listToken({
          r: HISTORY_RUNS[2].runId,
          t: HISTORY_RUNS[2].takenAt,
          c: sdkToken(`run_${HISTORY_RUNS[2].runId}`, ''),
        }),
      ),
    );
  });

  test.each([
    ['garbage', 'not base64 json'],
    [
      'garbage list position',
      listToken({ r: HISTORY_RUNS[0].runId, t: HISTORY_RUNS[0].takenAt, c: 'garbage' }),
    ],
    ['empty object', listToken({})],
  ])('when a token from public values carries a %s inner token, then 400, never 500', async (_, inner) => {
    await expect400(forgedFromPublicValues(inner));
  });

  test.each([
    [
      'garbage list position',
      listToken({ r: HISTORY_RUNS[0].runId, t: HISTORY_RUNS[0].takenAt, c: 'garbage' }),
    ],
    [
      'list position of another shape',
      listToken({ r: HISTORY_RUNS[0].runId, t: HISTORY_RUNS[0].takenAt, c: 'e30' }),
    ],
    ['non-token', '%%%'],
  ])('when a token signed with the real key carries a %s, then 400, never 500', async (_, inner) => {
    await expect400(signedWithRealKey(inner));
  });

  test('when a history token carries garbage under the real key, then 400, never 500', async () => {
    const customer = populatedState().customers[0].record.customerId;
    const binding = { route: 'customerHistory', ids: [customer], query: {} };
    const payload = Buffer.from(
      JSON.stringify({ v: 2, f: fingerprint(binding), x: Date.now() + 60_000, t: 'garbage' }),
    ).toString('base64url');
    const token = `${payload}.${createHmac('sha256', signingKey).update(payload).digest('base64url')}`;
    const res = await get(`/api/v1/customers/${customer}/history?continuationToken=${token}`);
    expect(res.status).toBe(400);
  });
});
