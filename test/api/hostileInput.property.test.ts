import fc from 'fast-check';
import { ContinuationTokens } from '../../src/api/continuationToken';
import { processSigningKeys } from '../../src/secrets/signingKeys';
import { ALL_METHODS } from '../../src/api/endpoint';
import { API_ERROR_CODES } from '../../src/api/errors';
import { createCustomerHistoryHandler } from '../../src/api/handlers/customerHistory';
import { createCustomersHandler } from '../../src/api/handlers/customers';
import { createCustomerSubscriptionsHandler } from '../../src/api/handlers/customerSubscriptions';
import { createCustomerUsageSummaryHandler } from '../../src/api/handlers/customerUsageSummary';
import { createPartnerUsageSummaryHandler } from '../../src/api/handlers/partnerUsageSummary';
import { createSnapshotsHandler } from '../../src/api/handlers/snapshots';
import { createSubscriptionHistoryHandler } from '../../src/api/handlers/subscriptionHistory';
import { createSubscriptionResourcesHandler } from '../../src/api/handlers/subscriptionResources';
import type { UsageReader } from '../../src/domain/usageReader';
import { apiSettings, clock, customerId, populatedState, subscriptionId } from './support/fixtures';
import { call, type Handler } from './support/http';
import { MemoryUsageStore } from './support/memoryUsageStore';

/**
 * Whatever a caller sends, the answer is 2xx/304 or a 4xx JSON error — never a 5xx — and every
 * value that reaches the store is one the validators let through: a lower-case GUID, a boolean,
 * a currency in [A-Za-z-], a Date, a limit in 1..1000, a store token this API issued.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const seen: unknown[][] = [];
const issuedStoreTokens = new Set<string>();

function spyingReader(): UsageReader {
  const store = new MemoryUsageStore(populatedState());
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        seen.push([name, ...args]);
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        const token =
          (result as { page?: { continuationToken?: string } })?.page?.continuationToken ??
          (result as { value?: { continuationToken?: string } })?.value?.continuationToken;
        if (token) issuedStoreTokens.add(token);
        return result;
      };
    },
  }) as UsageReader;
}

function assertSafeArgument(value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (value instanceof Date) return expect(Number.isNaN(value.getTime())).toBe(false);
  if (typeof value === 'number')
    return expect(Number.isInteger(value) && value >= 1 && value <= 1000).toBe(true);
  if (typeof value === 'string') {
    if (GUID.test(value) || issuedStoreTokens.has(value) || value === 'manual') return;
    throw new Error(`unvalidated string reached the store: ${JSON.stringify(value)}`);
  }
  if (typeof value === 'object' && value !== null) {
    for (const [name, inner] of Object.entries(value)) {
      if (name === 'currency' && typeof inner === 'string') {
        expect(inner).toMatch(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,4}){0,2}$/);
      } else assertSafeArgument(inner);
    }
  }
}

const reader = spyingReader();
const tokenKeys = processSigningKeys();
const deps = { reader, settings: apiSettings, clock, tokenKeys };
const runs = new MemoryUsageStore(populatedState());
const handlers: Array<{ name: string; handler: Handler; params: Array<'customerId' | 'subscriptionId'> }> = [
  { name: 'partner', handler: createPartnerUsageSummaryHandler(deps), params: [] },
  { name: 'customers', handler: createCustomersHandler(deps), params: [] },
  { name: 'summary', handler: createCustomerUsageSummaryHandler(deps), params: ['customerId'] },
  { name: 'subscriptions', handler: createCustomerSubscriptionsHandler(deps), params: ['customerId'] },
  {
    name: 'resources',
    handler: createSubscriptionResourcesHandler(deps),
    params: ['customerId', 'subscriptionId'],
  },
  { name: 'customerHistory', handler: createCustomerHistoryHandler(deps), params: ['customerId'] },
  {
    name: 'subscriptionHistory',
    handler: createSubscriptionHistoryHandler(deps),
    params: ['customerId', 'subscriptionId'],
  },
  { name: 'snapshots', handler: createSnapshotsHandler({ reader, runs }), params: [] },
];

const validIds = [customerId(1), customerId(2), customerId(7), subscriptionId(1, 1), subscriptionId(2, 2)];
const odata = [
  "' or 1 eq 1",
  "' or PartitionKey ne '",
  "') or (true",
  'eq',
  '%27',
  '\\u0027',
  '*',
  '/',
  '..',
];
const hostileText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom(...odata),
  fc.constantFrom('true', 'false', 'TRUE', '1', '0', '', 'null', 'undefined', 'NaN', '💸', '\u202e'),
);
const nearGuid = fc.oneof(
  fc.constantFrom(...validIds).map((id) => id.toUpperCase()),
  fc.constantFrom(...validIds),
  fc
    .tuple(fc.constantFrom(...validIds), fc.nat(35), fc.string({ minLength: 1, maxLength: 3 }))
    .map(([id, at, s]) => id.slice(0, at) + s + id.slice(at + 1)),
  fc.tuple(fc.constantFrom(...validIds), fc.constantFrom(...odata)).map(([id, s]) => id + s),
  fc.constantFrom(...validIds).map((id) => `{${id}}`),
  fc.constantFrom(...validIds).map((id) => id.replace(/-/g, '')),
  fc.uuid(),
  hostileText,
);
const limit = fc.oneof(
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
  fc.constantFrom('1000', '1001', '0', '-0', '1e3', '0x10', '9'.repeat(400), '1.5', ' 5', '٣'),
);
const date = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom(
    '2025-02-29',
    '2024-02-29',
    '2025-13-01',
    '0000-01-01',
    '+275760-09-13',
    '2025-05-01T24:00:00Z',
  ),
  hostileText,
);
// Tokens signed with the right key but bound to another customer or query.
const memoryStoreToken = (offset: number) => {
  const token = Buffer.from(JSON.stringify({ o: offset })).toString('base64');
  issuedStoreTokens.add(token);
  return token;
};
// Filled before the properties run (signing is asynchronous); picked at generation time.
const signedElsewhere: string[] = [];
beforeAll(async () => {
  const tokens = new ContinuationTokens(tokenKeys);
  signedElsewhere.push(
    (await tokens.wrap(memoryStoreToken(2), {
      route: 'customerHistory',
      ids: [customerId(3)],
      query: {},
    })) as string,
    (await tokens.wrap(memoryStoreToken(1), { route: 'customers', ids: [], query: {} })) as string,
  );
});
const forgedToken = fc.oneof(
  hostileText,
  fc.tuple(fc.base64String(), fc.base64String()).map(([a, b]) => `${a}.${b}`.replace(/=/g, '')),
  fc.nat().map((i) => signedElsewhere[i % signedElsewhere.length]),
);
const queryEntry = fc.oneof(
  fc.tuple(fc.constant('limit'), limit),
  fc.tuple(fc.constantFrom('overBudget', 'isUpgraded'), hostileText),
  fc.tuple(
    fc.constant('currency'),
    fc.oneof(fc.constantFrom('EUR', 'usd', 'fr-FR', 'zh-Hans-CN'), hostileText),
  ),
  fc.tuple(fc.constantFrom('from', 'to'), date),
  fc.tuple(fc.constant('continuationToken'), forgedToken),
  fc.tuple(fc.constant('format'), fc.oneof(fc.constantFrom('csv', 'json', 'CSV'), hostileText)),
  fc.tuple(hostileText, hostileText),
);
// Mostly-valid queries too, so that hostile values also meet the code past validation.
const validEntry = fc.oneof(
  fc.tuple(fc.constant('limit'), fc.integer({ min: 1, max: 1000 }).map(String)),
  fc.tuple(fc.constantFrom('from', 'to'), fc.constantFrom('2025-05-17', '2025-05-19T00:00:00Z')),
  fc.tuple(fc.constant('continuationToken'), forgedToken),
);
const accept = fc.oneof(
  fc.constantFrom('text/csv', 'application/json', '*/*', 'text/*;q=0', 'application/xml', 'text/csv;q=abc'),
  hostileText,
);

test('when callers send hostile ids, queries, tokens and headers, then every answer is 2xx/304 or a 4xx JSON error', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(handlers.length - 1),
      fc.oneof({ arbitrary: fc.constant('GET'), weight: 8 }, fc.constantFrom(...ALL_METHODS)),
      fc.oneof(fc.constantFrom(...validIds), nearGuid),
      fc.oneof(fc.constantFrom(...validIds), nearGuid),
      fc.oneof(fc.array(validEntry, { maxLength: 3 }), fc.array(queryEntry, { maxLength: 5 })),
      fc.option(accept, { nil: undefined }),
      fc.option(hostileText, { nil: undefined }),
      async (index, method, id1, id2, query, acceptHeader, ifNoneMatch) => {
        const { handler, params: names } = handlers[index];
        const params: Record<string, string> = {};
        if (names[0]) params[names[0]] = id1;
        if (names[1]) params[names[1]] = id2;
        const search = new URLSearchParams(query).toString();
        const headers: Record<string, string> = {};
        // Header values cannot hold CR/LF or NUL, so the Fetch Headers class would refuse them.
        const headerSafe = (v: string) => v.replace(/[\r\n\0]/g, '').replace(/[^\x20-\xff]/g, '');
        if (acceptHeader !== undefined) headers.Accept = headerSafe(acceptHeader);
        if (ifNoneMatch !== undefined) headers['If-None-Match'] = headerSafe(ifNoneMatch);
        seen.length = 0;
        const res = await call(handler, `/api/x?${search}`, { method, params, headers });
        const ok = (res.status >= 200 && res.status < 300) || res.status === 304;
        if (!ok) {
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          const body = res.json<{ error: { code: string; message: string } }>();
          expect(API_ERROR_CODES).toContain(body.error.code);
          expect(typeof body.error.message).toBe('string');
          // The message never echoes control characters or unbounded caller input.
          expect([...body.error.message].some((ch) => ch.charCodeAt(0) < 0x20)).toBe(false);
          expect(body.error.message.length).toBeLessThan(400);
        } else if (res.status !== 204 && res.status !== 304 && method !== 'HEAD') {
          if (res.headers.get('content-type')?.startsWith('application/json'))
            expect(() => res.json()).not.toThrow();
        }
        for (const [, ...args] of seen) args.forEach(assertSafeArgument);
      },
    ),
    { numRuns: 1500 },
  );
});
