import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorCode } from '../../src/domain/errors';
import { createLogger } from '../../src/observability/logger';
import { createPartnerCenterClient } from '../../src/partnerCenter/client';
import {
  PartnerCenterError,
  PartnerCenterNetworkError,
  PartnerCenterTimeoutError,
  RequestAbortedError,
  ResponseShapeError,
} from '../../src/partnerCenter/errors';
import { collect, rejectionOf, startHarness, type Harness } from './harness';

describe('Partner Center client: retries, limits, timeouts and cancellation', () => {
  let h: Harness | undefined;

  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  test('when Partner Center answers 429 with Retry-After, then the client waits at least that long before retrying', async () => {
    h = await startHarness({ retry: { baseDelayMs: 100 } });
    await h.client.getPartnerUsageSummary(); // token in hand, so nothing else is timed
    // One call per second; the first 60 drain the bucket while the sandbox clock stands still.
    h.sandbox.clock.freeze();
    h.sandbox.limits.set({ partnerPerMinute: 60, countRejected: false });
    const harness = h;
    await Promise.all(Array.from({ length: 60 }, () => harness.client.getPartnerUsageSummary()));
    h.sandbox.clock.resume();
    const before = h.pcExchanges().length;

    await expect(h.client.getPartnerUsageSummary({ correlationId: 'run-429' })).resolves.toBeDefined();

    const sent = h.pcExchanges().slice(before);
    const throttled = sent.find((e) => e.status === 429);
    if (!throttled?.answeredAt) throw new Error('the sandbox did not throttle');
    const retryAfterMs = Number(throttled.responseHeaders?.['retry-after']) * 1000;
    const retry = sent[sent.indexOf(throttled) + 1];
    const waitedMs = retry.sentAt - throttled.answeredAt;
    expect(retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(waitedMs).toBeGreaterThanOrEqual(retryAfterMs);
    expect(retry.status).toBe(200);
    expect(retry.headers['MS-RequestId']).not.toBe(throttled.headers['MS-RequestId']);
    expect(retry.headers['MS-CorrelationId']).toBe('run-429');
    console.log(`Retry-After ${retryAfterMs} ms asked, ${waitedMs} ms waited`);
  });

  test('when Partner Center answers 503, then the client retries and succeeds', async () => {
    h = await startHarness({
      sandbox: { faults: { status503: 1 } },
      onLog: (entry) => {
        if (entry.line.includes('failed; retrying')) h?.sandbox.faults.clear();
      },
    });

    await expect(h.client.getPartnerUsageSummary()).resolves.toBeDefined();

    expect(h.sandbox.counters.snapshot().requests['GET /v1/usagesummary']).toEqual({ '503': 1, '200': 1 });
    expect(h.lines.some((l) => l.level === 'warn' && l.line.includes('answered 503'))).toBe(true);
  });

  test('when the connection is reset, then the client retries and succeeds', async () => {
    h = await startHarness({
      sandbox: { faults: { reset: 1 } },
      onLog: (entry) => {
        if (entry.line.includes('failed; retrying')) h?.sandbox.faults.clear();
      },
    });

    await expect(collect(h.client.listCustomerUsageRecords())).resolves.toHaveLength(12);

    expect(h.sandbox.counters.snapshot().faults).toEqual({ reset: 1 });
  });

  test('when every answer is 500, then retries stop after PARTNER_CENTER_MAX_RETRIES with the last error', async () => {
    h = await startHarness({ settings: { maxRetries: 3 }, sandbox: { faults: { status500: 1 } } });

    const error = await rejectionOf(h.client.getPartnerUsageSummary({ correlationId: 'run-500' }));

    expect(error).toBeInstanceOf(PartnerCenterError);
    expect(error).toMatchObject({ status: 500, pcCode: 5000, attempts: 4, correlationId: 'run-500' });
    expect(h.sandbox.counters.snapshot().requests['GET /v1/usagesummary']).toEqual({ '500': 4 });
  });

  test('when retries would outlast the total retry time, then they stop early', async () => {
    h = await startHarness({
      settings: { maxRetries: 20 },
      retry: { baseDelayMs: 100, maxDelayMs: 100, maxTotalMs: 250 },
      random: () => 0.999,
      sandbox: { faults: { status503: 1 } },
    });
    const startedAt = Date.now();

    const error = await rejectionOf(h.client.getPartnerUsageSummary());

    expect(errorCode(error)).toBe('PartnerCenterHttp');
    expect((error as PartnerCenterError).attempts).toBeLessThanOrEqual(3);
    // Bounded by what 20 retries of 100 ms would take, not by this machine's speed.
    expect(Date.now() - startedAt).toBeLessThan(20 * 100);
  });

  test('when a body is not JSON, then the client retries and finally throws ResponseShapeError at $', async () => {
    h = await startHarness({ settings: { maxRetries: 1 }, sandbox: { faults: { malformed: 1 } } });

    const error = await rejectionOf(h.client.getPartnerUsageSummary({ correlationId: 'run-malformed' }));

    expect(error).toBeInstanceOf(ResponseShapeError);
    expect(error).toMatchObject({ code: 'ResponseShape', path: '$', correlationId: 'run-malformed' });
    expect((error as ResponseShapeError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.sandbox.counters.snapshot().faults).toEqual({ malformed: 2 });
  });

  test('when a body is cut off mid-way, then the failure is a network error after the retries', async () => {
    h = await startHarness({ settings: { maxRetries: 1 }, sandbox: { faults: { truncated: 1 } } });

    const error = await rejectionOf(h.client.getPartnerUsageSummary());

    expect(error).toBeInstanceOf(PartnerCenterNetworkError);
    expect(error).toMatchObject({ code: 'PartnerCenterNetwork', attempts: 2 });
  });

  test('when an answer stalls past the timeout, then PartnerCenterTimeoutError follows the retries', async () => {
    h = await startHarness({
      settings: { maxRetries: 1, timeoutMs: 200 },
      sandbox: { faults: { slowBody: 1, slowBodyMs: 3000 } },
    });
    await h.tokens.getAccessToken();
    const startedAt = Date.now();

    const error = await rejectionOf(h.client.getPartnerUsageSummary());

    expect(error).toBeInstanceOf(PartnerCenterTimeoutError);
    expect(error).toMatchObject({ code: 'PartnerCenterTimeout', timeoutMs: 200, attempts: 2 });
    // Neither attempt waited for the 3 s stall to end.
    expect(Date.now() - startedAt).toBeLessThan(3000);
  });

  test('when the caller aborts a request in flight, then it stops at once with RequestAbortedError', async () => {
    h = await startHarness({ sandbox: { faults: { latencyMs: 3000 } } });
    await h.tokens.getAccessToken();
    const controller = new AbortController();
    const startedAt = Date.now();
    setTimeout(() => controller.abort(), 100);

    const error = await rejectionOf(h.client.getPartnerUsageSummary({ signal: controller.signal }));

    expect(error).toBeInstanceOf(RequestAbortedError);
    expect(errorCode(error)).toBe('RequestAborted');
    // It did not wait for the 3 s answer.
    expect(Date.now() - startedAt).toBeLessThan(3000);
  });

  test('when the caller aborts during a retry wait, then no further request is sent', async () => {
    h = await startHarness({
      retry: { baseDelayMs: 5000, maxDelayMs: 5000 },
      random: () => 0.999,
      sandbox: { faults: { status503: 1 } },
    });
    const controller = new AbortController();
    const harness = h;
    const onWarn = setInterval(() => {
      if (harness.lines.some((l) => l.line.includes('failed; retrying'))) controller.abort();
    }, 10);

    const error = await rejectionOf(
      collect(h.client.listCustomerUsageRecords({ signal: controller.signal })),
    );
    clearInterval(onWarn);

    expect(errorCode(error)).toBe('RequestAborted');
    expect(h.sandbox.counters.snapshot().requests['GET /v1/customers/usagerecords']).toEqual({ '503': 1 });
  });

  test('when requests per minute is 600, then six calls are spread over at least half a second', async () => {
    h = await startHarness({ settings: { requestsPerMinute: 600 } });
    await h.tokens.getAccessToken();
    const harness = h;

    await Promise.all(Array.from({ length: 6 }, () => harness.client.getPartnerUsageSummary()));

    const sentAt = h.pcExchanges().map((e) => e.sentAt);
    const gaps = sentAt.slice(1).map((t, i) => t - sentAt[i]);
    // Bottleneck starts job n no earlier than n * 100 ms after the first; the send follows a few
    // ticks later, so single gaps jitter on a loaded machine while the cumulative pace holds.
    console.log(`gaps between sends at 600/min: ${gaps.join(', ')} ms`);
    sentAt.forEach((t, n) => expect(t - sentAt[0]).toBeGreaterThanOrEqual(n * 100 - 30));
  });

  test('when concurrency is 2, then never more than two requests are in flight', async () => {
    h = await startHarness({ settings: { maxConcurrency: 2 }, sandbox: { faults: { latencyMs: 100 } } });
    await h.tokens.getAccessToken();
    const harness = h;

    const startedAt = Date.now();
    await Promise.all(Array.from({ length: 6 }, () => harness.client.getPartnerUsageSummary()));
    const elapsed = Date.now() - startedAt;

    const spans = h.pcExchanges().map((e) => [e.sentAt, e.answeredAt ?? Infinity] as const);
    const maxInFlight = Math.max(
      ...spans.map(([start]) => spans.filter(([s, end]) => s <= start && end > start).length),
    );
    expect(maxInFlight).toBeLessThanOrEqual(2);
    // Six 100 ms answers, two at a time: three rounds.
    expect(elapsed).toBeGreaterThanOrEqual(290);
  });
});

describe('Partner Center client: responses that break the contract', () => {
  let server: Server;
  let baseUrl: string;
  let body = '';

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const client = () =>
    createPartnerCenterClient({
      settings: {
        baseUrl,
        authorityHost: baseUrl,
        tenantId: '11111111-2222-4333-8444-555555555555',
        clientId: '66666666-7777-4888-9999-aaaaaaaaaaaa',
        scope: 'https://api.partnercenter.microsoft.com/user_impersonation offline_access',
        requestsPerMinute: 100_000,
        maxConcurrency: 4,
        timeoutMs: 2000,
        maxRetries: 2,
      },
      tokens: { getAccessToken: async () => 'stub-access-token-value', invalidate: () => undefined },
      logger: createLogger(() => undefined),
    });

  const record = (totalCost: string) =>
    `{"isUpgraded":false,"id":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","totalCost":${totalCost},"currencyLocale":"en-US"}`;

  test('when the fourth item has a string cost, then ResponseShapeError names items[3].totalCost and nothing is yielded', async () => {
    body = `{"totalCount":4,"items":[${[record('1.5'), record('2'), record('3'), record('"4.25"')].join(',')}]}`;
    const yielded: unknown[] = [];

    const error = await rejectionOf(
      (async () => {
        for await (const item of client().listCustomerUsageRecords({ correlationId: 'run-shape' }))
          yielded.push(item);
      })(),
    );

    expect(error).toBeInstanceOf(ResponseShapeError);
    expect(error).toMatchObject({
      path: 'items[3].totalCost',
      problem: 'expected a JSON number',
      correlationId: 'run-shape',
    });
    expect((error as Error).message).toContain('items[3].totalCost');
    expect(yielded).toEqual([]);
  });

  test('when a record has neither id nor resourceId, then the error names the id', async () => {
    body = '{"totalCount":1,"items":[{"totalCost":1,"isUpgraded":true}]}';

    const error = await rejectionOf(collect(client().listCustomerUsageRecords()));

    expect(error).toMatchObject({ code: 'ResponseShape', path: 'items[0].id' });
  });

  test('when a summary lacks its total, then the error says totalCost is missing', async () => {
    body =
      '{"customersOverBudget":1,"customersTrendingOver":0,"customersWithUsageBasedSubscription":3,"id":"0c39d6d5-c70d-4c55-bc02-f620844f3fd1","billingStartDate":"2026-03-01T00:00:00+00:00","billingEndDate":"2026-04-01T00:00:00+00:00"}';

    const error = await rejectionOf(client().getPartnerUsageSummary());

    expect(error).toMatchObject({ code: 'ResponseShape', path: 'totalCost', problem: 'is missing' });
  });
});
