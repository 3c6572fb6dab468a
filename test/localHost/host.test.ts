import { app, type HttpRequest, type InvocationContext } from '@azure/functions';
import { registeredFunctions } from '../../dev/localHost/functionsCore';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';

// Registered through the real @azure/functions library; jest maps @azure/functions-core to the
// local host's stand-in, as installFunctionsCore does in plain Node.
const timerCalls: string[] = [];
app.http('echo', {
  route: 'items/{id:guid}',
  methods: ['GET'],
  authLevel: 'function',
  handler: async (request: HttpRequest) => ({
    jsonBody: {
      id: request.params.id,
      q: request.query.get('q'),
      key: request.headers.get('x-functions-key') !== null,
    },
  }),
});
app.http('items-literal', {
  route: 'items/special',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => ({ body: 'literal' }),
});
app.http('admin-only', {
  route: 'control',
  methods: ['POST'],
  authLevel: 'admin',
  handler: async (r: HttpRequest) => ({ status: 202, body: await r.text() }),
});
app.http('boom', {
  route: 'boom',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async () => {
    throw new Error('kaput');
  },
});
app.timer('tick', {
  schedule: '%TEST_TICK_SCHEDULE%',
  handler: async (_timer: unknown, context: InvocationContext) => {
    timerCalls.push(context.functionName);
  },
});

let host: LocalHost;
const lines: string[] = [];
beforeAll(async () => {
  host = await startLocalHost({
    port: 0,
    functionKey: 'fkey-123',
    masterKey: 'mkey-456',
    env: { TEST_TICK_SCHEDULE: '* * * * * *' },
    log: (line) => lines.push(line),
  });
});
afterAll(() => host.close());

const guid = '0f8fad5b-d9cb-469f-a165-70867728950e';

test('when the app registers functions, then the host sees exactly those registrations', () => {
  expect(
    registeredFunctions()
      .map((f) => f.name)
      .sort(),
  ).toEqual(['admin-only', 'boom', 'echo', 'items-literal', 'tick']);
});

test('when a function-level route is called without a key, then 401; with the function key, then it runs', async () => {
  expect((await fetch(`${host.url}/api/items/${guid}`)).status).toBe(401);
  expect(
    (await fetch(`${host.url}/api/items/${guid}`, { headers: { 'x-functions-key': 'wrong' } })).status,
  ).toBe(401);
  const ok = await fetch(`${host.url}/api/items/${guid}?q=a%20b`, {
    headers: { 'x-functions-key': 'fkey-123' },
  });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ id: guid, q: 'a b', key: true });
  expect((await fetch(`${host.url}/api/items/${guid}?code=fkey-123`)).status).toBe(200);
});

test('when an admin route is called with the function key, then 401; with the master key, then it runs', async () => {
  const init = { method: 'POST', body: 'go' };
  expect(
    (await fetch(`${host.url}/api/control`, { ...init, headers: { 'x-functions-key': 'fkey-123' } })).status,
  ).toBe(401);
  const ok = await fetch(`${host.url}/api/control`, { ...init, headers: { 'x-functions-key': 'mkey-456' } });
  expect(ok.status).toBe(202);
  expect(await ok.text()).toBe('go');
});

test('when a route constraint or method does not match, or the prefix is missing, then 404', async () => {
  const headers = { 'x-functions-key': 'fkey-123' };
  expect((await fetch(`${host.url}/api/items/not-a-guid`, { headers })).status).toBe(404);
  expect((await fetch(`${host.url}/api/items/${guid}`, { method: 'DELETE', headers })).status).toBe(404);
  expect((await fetch(`${host.url}/items/${guid}`, { headers })).status).toBe(404);
});

test('when a literal and a parameter route both match, then the literal wins', async () => {
  const res = await fetch(`${host.url}/api/ITEMS/special`);
  expect(await res.text()).toBe('literal');
});

test('when a handler throws, then 500 and the host keeps serving', async () => {
  expect((await fetch(`${host.url}/api/boom`)).status).toBe(500);
  expect(lines.some((l) => l.includes('[boom] failed: kaput'))).toBe(true);
  expect((await fetch(`${host.url}/api/items/special`)).status).toBe(200);
});

test('when a timer schedule comes due, then the timer function runs with its own context', async () => {
  const deadline = Date.now() + 3_000;
  while (timerCalls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(timerCalls[0]).toBe('tick');
});
