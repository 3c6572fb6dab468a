import { inspect } from 'node:util';
import { createGunzip } from 'node:zlib';
import { createLogger } from '../../src/observability/logger';
import { createUsageExportClient } from '../../src/graph/client';
import { ClientCredentialsTokenProvider } from '../../src/graph/auth';
import { parseUsageLineItem } from '../../src/graph/lineItem';
import type { SucceededOperation } from '../../src/graph/usageExportClient';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { rejectionOf, SECRET_NAMES, settingsFor } from '../partnerCenter/harness';
import { finish, manifestOf, readBlob, startGraphHarness, type GraphHarness } from './harness';

// Mid-month, clock frozen: the export's figures are fixed by the seed.
const NOW = '2026-03-15T12:00:00Z';
const UNBILLED = { kind: 'unbilled', currencyCode: 'USD', billingPeriod: 'current' } as const;

/** Exact sum of decimal strings in 10^-18 units. */
function units(decimal: string): bigint {
  const [whole, fraction = ''] = decimal.split('.');
  return BigInt(whole + fraction.padEnd(18, '0').slice(0, 18));
}

describe('Graph usage export client, over the sandbox', () => {
  let h: GraphHarness;

  beforeAll(async () => {
    h = await startGraphHarness({
      sandbox: { customers: 20, now: NOW, freezeClock: true, graph: { retryAfterSeconds: 0, blobCount: 3 } },
    });
  });
  afterAll(() => h.close());
  afterEach(() => h.sandbox.graph.faults.clear());

  it('gets an app-only token by client credentials with the secret from the store, for the Graph scope', async () => {
    await h.client.startExport(UNBILLED);
    const grants = h.exchanges.filter((e) => e.url.includes('/oauth2/v2.0/token'));
    expect(grants.length).toBe(1);
    const form = new URLSearchParams(grants[0].body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('scope')).toBe('https://graph.microsoft.com/.default');
    expect(form.get('client_secret')).toBe(h.sandbox.credentials.clientSecret);
    expect(grants[0].url.startsWith(`${h.sandbox.baseUrl}/${h.sandbox.credentials.tenantId}/`)).toBe(true);
  });

  it('runs an export end to end: running polls, succeeded, manifest behind its link, blobs whose sums match Partner Center exactly', async () => {
    const started = await h.client.startExport(UNBILLED, { correlationId: 'run-1' });
    expect(started.operationUrl).toBe(
      `${h.sandbox.baseUrl}/v1.0/reports/partners/billing/operations/${started.operationId}`,
    );
    const { op, polls } = await finish(h.client, started.operationId);
    expect(polls).toEqual(['running', 'running', 'succeeded']);
    if (op.status !== 'succeeded') throw new Error('not succeeded');
    expect(op.manifest.kind).toBe('link');
    const manifest = await h.client.readManifest(op);
    expect(manifest.blobCount).toBe(3);
    expect(manifest.blobs).toHaveLength(3);
    expect(manifest.sasExpiresAt).toMatch(/^2026-03-15T13:00:00/);

    const perCustomer = new Map<string, bigint>();
    let lines = 0;
    for (const blob of manifest.blobs) {
      const text = await readBlob(h.client, blob);
      expect(text.length).toBe(blob.lineCount);
      for (const line of text) {
        const item = parseUsageLineItem(line);
        perCustomer.set(
          item.customerId,
          (perCustomer.get(item.customerId) ?? 0n) + units(item.billingPreTaxTotal),
        );
        lines++;
      }
    }
    expect(lines).toBeGreaterThan(100);
    for (const customer of h.sandbox.data.customers()) {
      expect(perCustomer.get(customer.id) ?? 0n).toBe(h.sandbox.customerUsage(customer.index).totalCost);
    }
  });

  it('honours Retry-After on a running operation: it reports the wait and does not wait itself', async () => {
    const slow = await startGraphHarness({
      sandbox: {
        customers: 2,
        now: NOW,
        freezeClock: true,
        graph: { retryAfterSeconds: 30, runningPolls: 1 },
      },
    });
    try {
      const started = await slow.client.startExport(UNBILLED);
      expect(started.retryAfterMs).toBe(30_000);
      const at = Date.now();
      const op = await slow.client.getOperation(started.operationId);
      expect(Date.now() - at).toBeLessThan(5_000);
      expect(op).toMatchObject({ status: 'running', retryAfterMs: 30_000 });
    } finally {
      await slow.close();
    }
  });

  it('waits out a 429 Retry-After before the retry', async () => {
    const started = await h.client.startExport(UNBILLED);
    h.sandbox.graph.faults.set({ throttleNext: 1, throttleRetryAfterSeconds: 1 });
    const at = Date.now();
    const op = await h.client.getOperation(started.operationId);
    expect(Date.now() - at).toBeGreaterThanOrEqual(1000);
    expect(op.status).toBe('running');
    expect(
      h.lines.some((l) => l.line.includes('Graph request failed; retrying') && l.line.includes('429')),
    ).toBe(true);
  });

  it('treats completed like succeeded and reads an inlined manifest without a request', async () => {
    const inline = await startGraphHarness({
      sandbox: {
        customers: 3,
        now: NOW,
        freezeClock: true,
        graph: { retryAfterSeconds: 0, runningPolls: 0, manifest: 'inline', successStatus: 'completed' },
      },
    });
    try {
      const started = await inline.client.startExport({ ...UNBILLED, attributeSet: 'basic' });
      const { op } = await finish(inline.client, started.operationId);
      expect(op).toMatchObject({ status: 'succeeded', reportedStatus: 'completed' });
      const before = inline.exchanges.length;
      const manifest = await inline.client.readManifest(op as SucceededOperation);
      expect(inline.exchanges.length).toBe(before);
      expect(manifest.blobs.length).toBe(2);
    } finally {
      await inline.close();
    }
  });

  it('reports failed with its code, 5000 "No data available" flagged as a normal outcome', async () => {
    h.sandbox.graph.faults.set({ failNextExports: 1 });
    const started = await h.client.startExport(UNBILLED);
    const { op } = await finish(h.client, started.operationId);
    expect(op).toMatchObject({
      status: 'failed',
      error: { code: '5000', message: 'No data available' },
      noData: true,
    });
  });

  it('starts a billed export by invoice id', async () => {
    const invoiceId = h.sandbox.graph.invoiceId('2026-02-01T00:00:00Z');
    const started = await h.client.startExport({ kind: 'billed', invoiceId });
    const manifest = await manifestOf(h.client, started.operationId);
    const [first] = await readBlob(h.client, manifest.blobs[0]);
    expect(parseUsageLineItem(first).invoiceNumber).toBe(invoiceId);
    await expect(h.client.startExport({ kind: 'billed', invoiceId: 'G1?x=1' })).rejects.toMatchObject({
      code: 'InvalidExportRequest',
    });
  });

  it('a reset mid-blob fails the body stream with a typed error; the blob reads whole the next time', async () => {
    const started = await h.client.startExport(UNBILLED);
    const manifest = await manifestOf(h.client, started.operationId);
    h.sandbox.graph.faults.set({ resetNextBlobs: 1 });
    const { body } = await h.client.openBlob(manifest.blobs[0]);
    const gunzip = body.pipe(createGunzip());
    let received = 0;
    const error = await rejectionOf(
      (async () => {
        body.on('error', (e) => gunzip.destroy(e));
        for await (const chunk of gunzip) received += (chunk as Buffer).length;
      })(),
    );
    expect(received).toBeGreaterThan(0);
    expect(error).toMatchObject({ code: 'GraphNetwork', midBody: true });
    expect((error as Error).message).toContain(manifest.blobs[0].name);
    expect((await readBlob(h.client, manifest.blobs[0])).length).toBe(manifest.blobs[0].lineCount);
  });

  it('an expired SAS means start again (ExportExpired), with 403 and with 410; the SAS never shows', async () => {
    const started = await h.client.startExport(UNBILLED);
    const manifest = await manifestOf(h.client, started.operationId);
    h.sandbox.graph.expireSas();
    const error = await rejectionOf(h.client.openBlob(manifest.blobs[1]));
    expect(error).toMatchObject({ code: 'ExportExpired', reason: 'sasExpired', status: 403 });
    const sig = decodeURIComponent(/sig=([^&]+)/.exec(manifest.blobs[1].url)?.[1] ?? 'none');
    for (const text of [(error as Error).message, JSON.stringify(error), inspect(error)]) {
      expect(text).not.toContain(sig);
      expect(text).not.toContain('sig=');
    }

    const gone = await startGraphHarness({
      sandbox: {
        customers: 2,
        now: NOW,
        freezeClock: true,
        graph: { retryAfterSeconds: 0, runningPolls: 0, sasLifetimeSeconds: 60, expiredStatus: 410 },
      },
    });
    try {
      const s = await gone.client.startExport(UNBILLED);
      const m = await manifestOf(gone.client, s.operationId);
      gone.sandbox.clock.advance(120_000);
      await expect(gone.client.openBlob(m.blobs[0])).rejects.toMatchObject({
        code: 'ExportExpired',
        reason: 'gone',
      });
    } finally {
      await gone.close();
    }
  });

  it('a tampered SAS is refused as sasRejected; a missing blob is a 404 GraphError, not retried', async () => {
    const started = await h.client.startExport(UNBILLED);
    const manifest = await manifestOf(h.client, started.operationId);
    const blob = manifest.blobs[0];
    const tampered = {
      ...blob,
      url: blob.url.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A')),
    };
    await expect(h.client.openBlob(tampered)).rejects.toMatchObject({
      code: 'ExportExpired',
      reason: 'sasRejected',
    });
    const missing = { ...blob, name: 'nope', url: blob.url.replace(/part-00000-/, 'part-00009-') };
    await expect(h.client.openBlob(missing)).rejects.toMatchObject({
      code: 'GraphHttp',
      status: 404,
      attempts: 1,
    });
  });

  it('gets a new token once on a 401 (the token expired early) and carries on', async () => {
    const started = await h.client.startExport(UNBILLED);
    const grantsBefore = h.exchanges.filter((e) => e.url.includes('/oauth2/')).length;
    h.sandbox.clock.advance(2 * 3600_000);
    try {
      const op = await h.client.getOperation(started.operationId);
      expect(op.operationId).toBe(started.operationId);
    } finally {
      h.sandbox.clock.advance(-2 * 3600_000);
    }
    expect(h.exchanges.filter((e) => e.url.includes('/oauth2/')).length).toBe(grantsBefore + 1);
  });

  it('refuses http:// to hosts that are not loopback, for GRAPH_BASE_URL, blob URLs and manifest links, before any request', async () => {
    const logger = createLogger(() => undefined);
    const tokens = new ClientCredentialsTokenProvider({
      settings: settingsFor(h.sandbox),
      secretStore: new LocalSecretStore({ [SECRET_NAMES.clientSecretName]: 'x' }),
      secretNames: SECRET_NAMES,
      logger,
    });
    expect(() =>
      createUsageExportClient({
        settings: { partnerCenter: settingsFor(h.sandbox), graph: { baseUrl: 'http://graph.example.com' } },
        tokens,
        logger,
      }),
    ).toThrow(expect.objectContaining({ code: 'InsecureUrl' }));

    const before = h.exchanges.length;
    await expect(
      h.client.openBlob({ name: 'b', url: 'http://storage.example.com/c/b.json.gz?sig=abc' }),
    ).rejects.toMatchObject({ code: 'InsecureUrl' });
    const foreign: SucceededOperation = {
      operationId: 'x',
      status: 'succeeded',
      reportedStatus: 'succeeded',
      manifest: {
        kind: 'link',
        url: 'https://attacker.example.com/v1.0/reports/partners/billing/manifests/x',
      },
    };
    await expect(h.client.readManifest(foreign)).rejects.toMatchObject({ code: 'InsecureUrl' });
    expect(h.exchanges.length).toBe(before);
  });

  it('a blob answered 429 is retried after its Retry-After; cancelling mid-body ends the stream with RequestAborted', async () => {
    const started = await h.client.startExport(UNBILLED);
    const manifest = await manifestOf(h.client, started.operationId);
    h.sandbox.graph.faults.set({ throttleNext: 1, throttleRetryAfterSeconds: 1 });
    const at = Date.now();
    const controller = new AbortController();
    const { body } = await h.client.openBlob(manifest.blobs[2], { signal: controller.signal });
    expect(Date.now() - at).toBeGreaterThanOrEqual(1000);
    const error = await rejectionOf(
      (async () => {
        for await (const chunk of body) {
          expect((chunk as Buffer).length).toBeGreaterThan(0);
          controller.abort();
        }
      })(),
    );
    expect(error).toMatchObject({ code: 'RequestAborted' });
  });

  it('a wrong client secret fails the token request once, typed, without retries or the secret in the error', async () => {
    const logger = createLogger(() => undefined);
    const settings = settingsFor(h.sandbox);
    const tokens = new ClientCredentialsTokenProvider({
      settings,
      secretStore: new LocalSecretStore({ [SECRET_NAMES.clientSecretName]: 'not-the-sandbox-secret' }),
      secretNames: SECRET_NAMES,
      logger,
    });
    const client = createUsageExportClient({
      settings: { partnerCenter: settings, graph: { baseUrl: h.sandbox.graph.baseUrl } },
      tokens,
      logger,
    });
    const error = await rejectionOf(client.startExport(UNBILLED));
    expect(error).toMatchObject({ code: 'TokenRequestFailed', status: 401, error: 'invalid_client' });
    expect(JSON.stringify(error)).not.toContain('not-the-sandbox-secret');
  });

  it('refuses a request it must not send (bad currency, bad period, bad operation id) before any request', async () => {
    const before = h.exchanges.length;
    await expect(h.client.startExport({ ...UNBILLED, currencyCode: 'US Dollar' })).rejects.toMatchObject({
      code: 'InvalidExportRequest',
    });
    await expect(
      h.client.startExport({ kind: 'unbilled', currencyCode: 'USD', billingPeriod: 'next' as 'current' }),
    ).rejects.toMatchObject({ code: 'InvalidExportRequest' });
    await expect(h.client.getOperation('../manifests/x')).rejects.toMatchObject({
      code: 'InvalidExportRequest',
    });
    expect(h.exchanges.length).toBe(before);
    // An unknown operation is Graph's 404, typed and not retried.
    await expect(h.client.getOperation('no-such-operation')).rejects.toMatchObject({
      code: 'GraphHttp',
      status: 404,
      graphCode: 'NotFound',
      attempts: 1,
    });
  });

  it('never logs the client secret, a token or the SAS', async () => {
    const started = await h.client.startExport(UNBILLED);
    const manifest = await manifestOf(h.client, started.operationId);
    await readBlob(h.client, manifest.blobs[0]);
    const sas = /\?(.*)$/.exec(manifest.blobs[0].url)?.[1] as string;
    const sig = decodeURIComponent(/sig=([^&]+)/.exec(sas)?.[1] as string);
    const token = await h.tokens.getAccessToken();
    const all = h.lines.map((l) => l.line).join('\n');
    expect(h.lines.length).toBeGreaterThan(5);
    for (const secret of [h.sandbox.credentials.clientSecret, token, sas, sig, encodeURIComponent(sig)]) {
      expect(all).not.toContain(secret);
    }
  });
});
