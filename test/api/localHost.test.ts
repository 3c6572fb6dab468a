import http from 'node:http';
import fc from 'fast-check';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import type { UsageStore } from '../../src/storage/tableUsageStore';
import { testRoot, type TestRoot } from './support/appRoot';
import { azuriteBackend } from './support/backends';
import { customerId, subscriptionId } from './support/fixtures';

/**
 * The app's own registrations (src/index.ts) served by the local host over HTTP: routing, auth
 * levels, 405/404 handling and caching as a portal sees them. The composition root is replaced by
 * one over the seeded Azurite store, so this runs without the snapshot or the sandbox; the
 * end-to-end test (e2e.test.ts) uses the real root after a real snapshot.
 */
let mockRoot: TestRoot | undefined;
jest.mock('../../src/app/dependencies', () => ({
  dependencies: () => {
    if (!mockRoot) throw new Error('test root not ready');
    return mockRoot;
  },
}));

const FUNCTION_KEY = 'test-function-key';
const MASTER_KEY = 'test-master-key';
let host: LocalHost;
let store: UsageStore;

beforeAll(async () => {
  const backend = await azuriteBackend();
  store = backend.usage;
  mockRoot = testRoot(store);
  await import('../../src/index');
  host = await startLocalHost({
    port: 0,
    functionKey: FUNCTION_KEY,
    masterKey: MASTER_KEY,
    timers: false,
    log: () => undefined,
  });
}, 60_000);
afterAll(() => host?.close());

const key = (k: string) => ({ headers: { 'x-functions-key': k } });

function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${host.url}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const c1 = customerId(1);

test('when a usage route is called without a key or with a wrong one, then 401; with the function or master key, then 200', async () => {
  expect((await fetch(`${host.url}/api/v1/customers`)).status).toBe(401);
  expect((await fetch(`${host.url}/api/v1/customers`, key('wrong'))).status).toBe(401);
  expect((await fetch(`${host.url}/api/v1/customers`, key(FUNCTION_KEY))).status).toBe(200);
  expect((await fetch(`${host.url}/api/v1/customers`, key(MASTER_KEY))).status).toBe(200);
  expect((await fetch(`${host.url}/api/v1/customers?code=${FUNCTION_KEY}`)).status).toBe(200);
});

test('when snapshot control is called with the function key, then 401; with the master key, then 202 and 409', async () => {
  expect((await fetch(`${host.url}/api/v1/snapshots`, { method: 'POST', ...key(FUNCTION_KEY) })).status).toBe(
    401,
  );
  expect((await fetch(`${host.url}/api/v1/snapshots`, key(FUNCTION_KEY))).status).toBe(401);
  const queued = await fetch(`${host.url}/api/v1/snapshots`, { method: 'POST', ...key(MASTER_KEY) });
  expect(queued.status).toBe(202);
  const { data } = (await queued.json()) as { data: { runId: string } };
  const again = await fetch(`${host.url}/api/v1/snapshots`, { method: 'POST', ...key(MASTER_KEY) });
  expect(again.status).toBe(409);
  const conflict = (await again.json()) as { error: { code: string; message: string } };
  expect(conflict.error.code).toBe('RunAlreadyActive');
  // It names the active run, so the caller can follow that one instead of guessing.
  expect(conflict.error.message).toContain(data.runId);
  const list = await fetch(`${host.url}/api/v1/snapshots`, key(MASTER_KEY));
  expect(((await list.json()) as { data: Array<{ runId: string }> }).data[0].runId).toBe(data.runId);
});

test('when a route gets a method it does not serve, then 405 with Allow over HTTP', async () => {
  const res = await fetch(`${host.url}/api/v1/customers`, { method: 'DELETE', ...key(FUNCTION_KEY) });
  expect(res.status).toBe(405);
  expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MethodNotAllowed');
});

test.each(['PROPFIND', 'PROPPATCH', 'MKCOL', 'PUT'])(
  'when a route gets %s, then the same JSON 405 with Allow as any other unserved method',
  async (method) => {
    for (const path of ['/api/v1/customers', '/api/v1/openapi.json']) {
      const res = await raw(method, path, { 'x-functions-key': FUNCTION_KEY });
      expect({ path, status: res.status, allow: res.headers.allow }).toEqual({
        path,
        status: 405,
        allow: 'GET, HEAD, OPTIONS',
      });
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect((JSON.parse(res.body) as { error: { code: string } }).error.code).toBe('MethodNotAllowed');
    }
  },
);

test('when TRACE is sent with a key, then it is refused and nothing of the request is echoed', async () => {
  // @azure/functions builds a fetch Request, which refuses TRACE: no handler can run for it, so
  // it is not registered and the host refuses it, as in Azure. What matters is that the key is
  // never reflected (cross-site tracing) and nothing fails.
  const res = await raw('TRACE', '/api/v1/customers', { 'x-functions-key': FUNCTION_KEY });
  expect(res.status).toBe(404);
  expect(res.body).not.toContain(FUNCTION_KEY);
});

test('when /api and /api/ are called, then both get the same JSON 404 RouteNotFound', async () => {
  const answers = await Promise.all(
    ['/api', '/api/', '/API'].map(async (path) => {
      const res = await fetch(`${host.url}${path}`);
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        code: ((await res.json()) as { error: { code: string } }).error.code,
      };
    }),
  );
  for (const answer of answers) {
    expect(answer).toEqual({ status: 404, type: 'application/json; charset=utf-8', code: 'RouteNotFound' });
  }
});

test.each([
  ['/api/v1/nothing'],
  ['/api/v1/customers/' + c1],
  ['/api/v2/customers'],
  ['/api/v1/customers/' + c1 + '/subscriptions/' + subscriptionId(1, 1)],
])('when %s is called (no such route), then a JSON 404 RouteNotFound, without a key', async (path) => {
  const res = await fetch(`${host.url}${path}`, { method: 'GET' });
  expect(res.status).toBe(404);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RouteNotFound');
});

test.each([
  ['/api/v1/customers/not-a-guid/usage-summary', 'InvalidCustomerId'],
  ['/api/v1/customers/%27%20or%201%20eq%201/history', 'InvalidCustomerId'],
  ['/api/v1/customers/%ZZ/subscriptions', 'InvalidCustomerId'],
  [`/api/v1/customers/${c1}/subscriptions/${c1}%00/resources`, 'InvalidSubscriptionId'],
  ['/api/v1/customers?limit=99999999999999999999', 'InvalidQuery'],
])(
  'when %s is called with a key, then 400 %s (the route matched; the handler refused)',
  async (path, code) => {
    const res = await fetch(`${host.url}${path}`, key(FUNCTION_KEY));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  },
);

test('when the OpenAPI document and health are fetched without a key, then 200', async () => {
  const doc = await fetch(`${host.url}/api/v1/openapi.json`);
  expect(doc.status).toBe(200);
  expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
  expect((await fetch(`${host.url}/api/health`)).status).toBe(200);
});

test('when a portal revalidates with If-None-Match over HTTP, then 304 with no body; CSV and HEAD work too', async () => {
  const url = `${host.url}/api/v1/customers/${c1.toUpperCase()}/subscriptions/${subscriptionId(1, 1)}/resources`;
  const first = await fetch(url, key(FUNCTION_KEY));
  expect(first.status).toBe(200);
  const etag = first.headers.get('etag') as string;
  const second = await fetch(url, { headers: { 'x-functions-key': FUNCTION_KEY, 'If-None-Match': etag } });
  expect(second.status).toBe(304);
  expect(await second.text()).toBe('');
  const csv = await fetch(url, { headers: { 'x-functions-key': FUNCTION_KEY, Accept: 'text/csv' } });
  expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
  expect((await csv.text()).startsWith('subscriptionId,resourceId,')).toBe(true);
  const head = await fetch(url, { method: 'HEAD', ...key(FUNCTION_KEY) });
  expect(head.status).toBe(200);
  expect(head.headers.get('etag')).toBe(etag);
});

test("when usage routes are read, then each costs one Table Storage request, a subscription's resources two (measured)", async () => {
  // The customers list lives in its run's partition. The reader remembers the current run for a
  // few seconds, so a first page costs one query (plus one point read when that memory lapses)
  // and later pages, whose token names the run, one.
  const firstPage = await fetch(`${host.url}/api/v1/customers?limit=3`, key(FUNCTION_KEY));
  const token = ((await firstPage.json()) as { continuationToken: string }).continuationToken;
  const paths: Array<[string, number]> = [
    ['/api/v1/partner/usage-summary', 1],
    ['/api/v1/customers?limit=3', 1],
    [`/api/v1/customers?limit=3&continuationToken=${token}`, 1],
    [`/api/v1/customers/${c1}/usage-summary`, 1],
    [`/api/v1/customers/${c1}/subscriptions`, 1],
    // A point read of the customer's view names the slot its committed parts are in, then one query.
    [`/api/v1/customers/${c1}/subscriptions/${subscriptionId(1, 1)}/resources`, 2],
    [`/api/v1/customers/${c1}/history?limit=3`, 1],
    [`/api/v1/customers/${c1}/subscriptions/${subscriptionId(1, 1)}/history`, 1],
  ];
  const rounds = 20;
  const lines: string[] = [];
  for (const [path, expected] of paths) {
    const before = store.metrics.roundTrips;
    const ms: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      const res = await fetch(`${host.url}${path}`, key(FUNCTION_KEY));
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      ms.push(performance.now() - started);
    }
    const perRead = (store.metrics.roundTrips - before) / rounds;
    expect({ path, perRead }).toEqual({ path, perRead: expected });
    ms.sort((a, b) => a - b);
    lines.push(
      `${path.split('?')[0]}: ${perRead} request(s), p50 ${ms[rounds / 2].toFixed(1)} ms, p95 ${ms[Math.floor(rounds * 0.95)].toFixed(1)} ms`,
    );
  }
  console.log(`API via local host + Azurite, ${rounds} sequential reads each:\n${lines.join('\n')}`);
});

describe('hostile requests over HTTP', () => {
  const ids = fc.oneof(
    fc.constant(c1),
    fc.constant(c1.toUpperCase()),
    fc.constant(`${c1}'`),
    fc.constant("' or PartitionKey ne '"),
    fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s) || 'x'),
  );
  const path = fc.oneof(
    fc.constant('/api/v1/customers'),
    fc.constant('/api/v1/partner/usage-summary'),
    ids.map((id) => `/api/v1/customers/${id}/usage-summary`),
    ids.map((id) => `/api/v1/customers/${id}/subscriptions`),
    fc.tuple(ids, ids).map(([a, b]) => `/api/v1/customers/${a}/subscriptions/${b}/resources`),
    fc.tuple(ids, ids).map(([a, b]) => `/api/v1/customers/${a}/subscriptions/${b}/history`),
    fc.constant('/api/v1/snapshots'),
    fc.constant('/api/health'),
    fc.string({ maxLength: 30 }).map((s) => `/api/${encodeURIComponent(s)}`),
  );
  const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
  const contentType = fc.constantFrom(
    'application/json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/json; charset=utf-16',
    '\u00e9/\u00e9',
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 70_000 }),
  );
  // Up to 40 KiB: past Node's 16 KiB header limit about half the time.
  const bigHeader = fc.oneof(
    fc.constant(''),
    fc.nat({ max: 40_000 }).map((n) => 'x'.repeat(n)),
  );

  test('when methods, content types, bodies and header sizes are hostile, then every answer is 2xx/304 or a 4xx JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(path, method, contentType, body, bigHeader, async (p, m, type, payload, padding) => {
        const headers: Record<string, string> = { 'x-functions-key': MASTER_KEY, 'content-type': type };
        if (padding) headers['x-padding'] = padding;
        const sendsBody = payload !== undefined && m !== 'GET' && m !== 'HEAD';
        const res = await fetch(`${host.url}${p}`, {
          method: m,
          headers,
          body: sendsBody ? (payload as string | Uint8Array) : undefined,
        });
        const text = await res.text();
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400 && m !== 'HEAD') {
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          expect(typeof (JSON.parse(text) as { error: { code: string } }).error.code).toBe('string');
        }
      }),
      { numRuns: 120, seed: 20261121 },
    );
  });

  test('when a body is larger than the host accepts, then 413 with a JSON error', async () => {
    const small = await startLocalHost({
      port: 0,
      functionKey: FUNCTION_KEY,
      masterKey: MASTER_KEY,
      timers: false,
      maxBodyBytes: 1024,
      log: () => undefined,
    });
    try {
      const res = await fetch(`${small.url}/api/v1/snapshots`, {
        method: 'POST',
        headers: { 'x-functions-key': MASTER_KEY },
        body: 'x'.repeat(4096),
      });
      expect(res.status).toBe(413);
      expect((await res.json()) as object).toEqual({
        error: expect.objectContaining({ code: 'PayloadTooLarge' }),
      });
    } finally {
      await small.close();
    }
  });
});
