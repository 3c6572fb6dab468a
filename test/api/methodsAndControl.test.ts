import { createCustomersHandler } from '../../src/api/handlers/customers';
import { HTTP_FUNCTIONS } from '../../src/functions/httpFunctions';
import { createNotFoundHandler } from '../../src/api/handlers/notFound';
import { createOpenApiHandler } from '../../src/api/handlers/openapi';
import { createPartnerUsageSummaryHandler } from '../../src/api/handlers/partnerUsageSummary';
import { createSnapshotsHandler } from '../../src/api/handlers/snapshots';
import type { UsageReader } from '../../src/domain/usageReader';
import { apiSettings, clock, populatedState, run } from './support/fixtures';
import { call, type ErrorAnswer } from './support/http';
import { MemoryUsageStore } from './support/memoryUsageStore';

describe('methods', () => {
  const customers = createCustomersHandler({
    reader: new MemoryUsageStore(populatedState()),
    settings: apiSettings,
    clock,
  });

  test.each(['POST', 'PUT', 'PATCH', 'DELETE'])(
    'when a usage route gets %s, then 405 with Allow and a JSON error',
    async (method) => {
      const res = await call(customers, '/api/v1/customers', { method });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      expect(res.json<ErrorAnswer>().error.code).toBe('MethodNotAllowed');
    },
  );

  test('when a usage route gets HEAD, then the GET headers and no body', async () => {
    const get = await call(customers, '/api/v1/customers');
    const head = await call(customers, '/api/v1/customers', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
  });

  test('when a route gets OPTIONS, then 204 with Allow', async () => {
    const res = await call(customers, '/api/v1/customers', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  test('when an unknown route is called with any method, then a JSON 404 RouteNotFound', async () => {
    const notFound = createNotFoundHandler();
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await call(notFound, '/api/v2/nothing/here', { method });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.json<ErrorAnswer>().error).toEqual({
        code: 'RouteNotFound',
        message: 'No route "/api/v2/nothing/here"; see /api/v1/openapi.json for the routes',
      });
    }
  });

  test('when the store fails unexpectedly, then 500 InternalError that reveals nothing about the cause', async () => {
    const failing = {
      getPartnerSummary: async () => {
        throw new Error('AccountKey=supersecret; connect ECONNREFUSED 10.0.0.5');
      },
    } as unknown as UsageReader;
    const res = await call(
      createPartnerUsageSummaryHandler({ reader: failing, settings: apiSettings, clock }),
      '/api/v1/partner/usage-summary',
    );
    expect(res.status).toBe(500);
    expect(res.json<ErrorAnswer>().error.code).toBe('InternalError');
    expect(res.text).not.toMatch(/supersecret|ECONNREFUSED|10\.0\.0\.5/);
  });
});

describe('snapshot control', () => {
  test('when runs are listed, then newest first with state and counts, never cached', async () => {
    const store = new MemoryUsageStore(populatedState());
    const handler = createSnapshotsHandler({ reader: store, runs: store });
    const res = await call(handler, '/api/v1/snapshots?limit=2');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = res.json<{
      data: Array<{ state: string; finishedAt: string | null; reason: string | null }>;
    }>();
    expect(body.data.map((r) => r.state)).toEqual(['succeeded', 'partial']);
    expect(body.data[0]).toEqual({
      runId: run(0, 'succeeded').runId,
      state: 'succeeded',
      trigger: 'manual',
      correlationId: 'corr-0',
      requestedAt: '2025-05-20T06:00:05.000Z',
      startedAt: '2025-05-20T06:00:05.000Z',
      finishedAt: '2025-05-20T06:00:05.000Z',
      reason: null,
      counts: {
        customersWritten: 7,
        // A run recorded without these counts fetched every customer it wrote.
        customersFetched: 7,
        customersCarriedOver: 0,
        customersFailed: 0,
        subscriptionsWritten: 14,
        subscriptionsFailed: 0,
        resourcesWritten: 14,
      },
      invocations: 0,
    });
  });

  test('when a run is asked for, then 202 with its id; asked again while it is queued, then 409 RunAlreadyActive', async () => {
    const store = new MemoryUsageStore(populatedState());
    const handler = createSnapshotsHandler({ reader: store, runs: store });
    const first = await call(handler, '/api/v1/snapshots', { method: 'POST' });
    expect(first.status).toBe(202);
    const runId = first.json<{ data: { runId: string; state: string } }>().data.runId;
    expect(first.json<{ data: { state: string } }>().data.state).toBe('queued');
    const second = await call(handler, '/api/v1/snapshots', { method: 'POST' });
    expect(second.status).toBe(409);
    expect(second.json<ErrorAnswer>().error.code).toBe('RunAlreadyActive');
    const listed = await call(handler, '/api/v1/snapshots');
    expect(listed.json<{ data: Array<{ runId: string }> }>().data.map((r) => r.runId)).toContain(runId);
  });

  test('when snapshots get DELETE or limit=101, then 405 with Allow GET, HEAD, POST, OPTIONS, or 400', async () => {
    const store = new MemoryUsageStore(populatedState());
    const handler = createSnapshotsHandler({ reader: store, runs: store });
    const del = await call(handler, '/api/v1/snapshots', { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect((await call(handler, '/api/v1/snapshots?limit=101')).status).toBe(400);
  });
});

test('when the OpenAPI document is fetched twice with its ETag, then 200 then 304', async () => {
  const handler = createOpenApiHandler(HTTP_FUNCTIONS);
  const first = await call(handler, '/api/v1/openapi.json');
  expect(first.status).toBe(200);
  expect(first.json<{ openapi: string }>().openapi).toBe('3.1.0');
  const second = await call(handler, '/api/v1/openapi.json', {
    headers: { 'If-None-Match': first.headers.get('etag') as string },
  });
  expect(second.status).toBe(304);
});
