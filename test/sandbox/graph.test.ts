import { gunzipSync } from 'node:zlib';
import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { tokenRequest, toUnits } from './support';

// Mid-month, clock frozen: the export's figures are fixed by the seed.
const NOW = '2026-03-15T12:00:00Z';
const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
const API = '/v1.0/reports/partners/billing';

/** Reads a key in either casing. */
function field(line: Record<string, unknown>, key: string): unknown {
  return key in line ? line[key] : line[key[0].toLowerCase() + key.slice(1)];
}

/** The decimal text of an amount sent as a JSON number or a string, from the raw line. */
function amount(raw: string, key: string): string {
  const match = new RegExp(`"${key}":"?(-?[0-9.]+)"?`, 'i').exec(raw);
  if (!match) throw new Error(`no ${key} in ${raw.slice(0, 200)}`);
  return match[1];
}

async function graphToken(sandbox: Sandbox): Promise<string> {
  const { status, body } = await tokenRequest(sandbox, {
    grant_type: 'client_credentials',
    client_id: sandbox.credentials.clientId,
    client_secret: sandbox.credentials.clientSecret,
    scope: GRAPH_SCOPE,
  });
  expect(status).toBe(200);
  return body.access_token as string;
}

async function graph(sandbox: Sandbox, token: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.baseUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Starts an export and polls it to the end; answers the last operation body and the polls seen. */
async function runExport(sandbox: Sandbox, token: string, kind: 'unbilled' | 'billed', request: unknown) {
  const started = await graph(sandbox, token, `${API}/usage/${kind}/export`, request);
  expect(started.status).toBe(202);
  const location = started.headers.get('location') as string;
  const statuses: string[] = [];
  for (let i = 0; i < 10; i++) {
    const op = await graph(sandbox, token, new URL(location).pathname);
    expect(op.status).toBe(200);
    statuses.push(op.body.status);
    if (op.body.status === 'running') {
      expect(op.headers.get('retry-after')).toBe('0');
      continue;
    }
    return { op: op.body, statuses };
  }
  throw new Error('the export never finished');
}

async function download(url: string): Promise<{ status: number; lines: string[]; text: string }> {
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) return { status: response.status, lines: [], text: bytes.toString('utf8') };
  const text = gunzipSync(bytes).toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return { status: 200, lines: text.slice(0, -1).split('\n'), text: '' };
}

describe('sandbox: the Graph usage export', () => {
  let sandbox: Sandbox;
  let token: string;

  beforeAll(async () => {
    sandbox = await startSandbox({
      customers: 30,
      now: NOW,
      freezeClock: true,
      graph: { retryAfterSeconds: 0, blobCount: 3 },
    });
    token = await graphToken(sandbox);
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.graph.faults.clear());

  it('grants Graph tokens by client credentials, which Partner Center refuses, and refuses Partner Center tokens', async () => {
    const pc = await fetch(`${sandbox.baseUrl}/v1/usagesummary`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(pc.status).toBe(401);
    const pcToken = sandbox.issueAccessToken();
    const refused = await graph(sandbox, pcToken, `${API}/operations/x`);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('InvalidAuthenticationToken');
    const bad = await tokenRequest(sandbox, {
      grant_type: 'client_credentials',
      client_id: sandbox.credentials.clientId,
      client_secret: 'wrong',
      scope: GRAPH_SCOPE,
    });
    expect(bad.status).toBe(401);
  });

  it("runs an unbilled export whose billing totals add up exactly to each customer's monthly usage record and each plan resource record", async () => {
    const { op, statuses } = await runExport(sandbox, token, 'unbilled', {
      currencyCode: 'USD',
      billingPeriod: 'current',
      attributeSet: 'full',
    });
    expect(statuses).toEqual(['running', 'running', 'succeeded']);
    expect(op['@odata.type']).toBe('#microsoft.graph.partners.billing.exportSuccessOperation');
    const manifest = await graph(
      sandbox,
      token,
      new URL(op['resourceLocation@odata.navigationLink']).pathname,
    );
    expect(manifest.status).toBe(200);
    const m = manifest.body;
    expect(m.blobCount).toBe(3);
    expect(m.sasToken).toMatch(/(^|&)sig=/);
    expect(m.sasToken).toMatch(/(^|&)se=/);

    const perCustomer = new Map<string, bigint>();
    const perResource = new Map<string, bigint>();
    let total = 0;
    for (const blob of m.blobs) {
      const { status, lines } = await download(`${m.rootDirectory}/${blob.name}?${m.sasToken}`);
      expect(status).toBe(200);
      expect(lines.length).toBe(blob.lineCount);
      total += lines.length;
      for (const raw of lines) {
        const line = JSON.parse(raw) as Record<string, unknown>;
        const customer = field(line, 'CustomerId') as string;
        const cost = toUnits(amount(raw, 'BillingPreTaxTotal'));
        perCustomer.set(customer, (perCustomer.get(customer) ?? 0n) + cost);
        const key = `${field(line, 'SubscriptionId') as string}|${field(line, 'ResourceURI') as string}`;
        perResource.set(key, (perResource.get(key) ?? 0n) + cost);
      }
    }
    expect(total).toBeGreaterThan(100);

    const at = Date.parse(NOW);
    let customersWithUsage = 0;
    let plansChecked = 0;
    for (const customer of sandbox.data.customers()) {
      const usage = sandbox.customerUsage(customer.index, at);
      expect(perCustomer.get(customer.id) ?? 0n).toBe(usage.totalCost);
      if (usage.totalCost > 0n) customersWithUsage++;
      if (customer.kind !== 'azurePlan') continue;
      for (const plan of customer.subscriptions) {
        for (const r of sandbox.azurePlanUsage(customer.index, plan.id, at).resources) {
          expect(perResource.get(`${plan.id}|${r.resource.resourceUri}`)).toBe(r.totalCost);
          plansChecked++;
        }
      }
    }
    expect(customersWithUsage).toBeGreaterThan(5);
    expect(plansChecked).toBeGreaterThan(10);
  });

  it('serves some lines in the shapes a parser must tolerate: string amounts, camelCase keys, unknown fields', async () => {
    const { op } = await runExport(sandbox, token, 'unbilled', {
      currencyCode: 'USD',
      billingPeriod: 'current',
    });
    const m = (await graph(sandbox, token, new URL(op['resourceLocation@odata.navigationLink']).pathname))
      .body;
    const { lines } = await download(`${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`);
    expect(lines.some((l) => /"BillingPreTaxTotal":"/.test(l))).toBe(true);
    expect(lines.some((l) => /"billingPreTaxTotal":/.test(l))).toBe(true);
    expect(lines.some((l) => /"FutureField":/.test(l))).toBe(true);
    expect(lines.some((l) => /"BillingPreTaxTotal":\d/.test(l))).toBe(true);
  });

  it('makes any size cheaply: lines per blob and blob count, deterministic, each blob on its own', async () => {
    const big = await startSandbox({
      customers: 30,
      now: NOW,
      freezeClock: true,
      graph: {
        retryAfterSeconds: 0,
        runningPolls: 0,
        blobCount: 4,
        linesPerBlob: 5000,
        manifest: 'inline',
        successStatus: 'completed',
      },
    });
    try {
      const bigToken = await graphToken(big);
      const { op, statuses } = await runExport(big, bigToken, 'unbilled', {
        currencyCode: 'USD',
        billingPeriod: 'current',
      });
      expect(statuses).toEqual(['completed']);
      const m = op.resourceLocation;
      expect(m.blobs.map((b: { lineCount: number }) => b.lineCount)).toEqual([5000, 5000, 5000, 5000]);
      let sum = 0n;
      const perCustomer = new Map<string, bigint>();
      for (const blob of [...m.blobs].reverse()) {
        const { lines } = await download(`${m.rootDirectory}/${blob.name}?${m.sasToken}`);
        expect(lines.length).toBe(5000);
        for (const raw of lines) {
          const cost = toUnits(amount(raw, 'BillingPreTaxTotal'));
          sum += cost;
          const customer = /"customerId":"([^"]+)"/i.exec(raw)?.[1] as string;
          perCustomer.set(customer, (perCustomer.get(customer) ?? 0n) + cost);
        }
      }
      let expected = 0n;
      for (const customer of big.data.customers()) {
        const usage = big.customerUsage(customer.index, Date.parse(NOW));
        expected += usage.totalCost;
        expect(perCustomer.get(customer.id) ?? 0n).toBe(usage.totalCost);
      }
      expect(sum).toBe(expected);
      // Same seed, same bytes of text.
      const again = await download(`${m.rootDirectory}/${m.blobs[1].name}?${m.sasToken}`);
      const first = await download(`${m.rootDirectory}/${m.blobs[1].name}?${m.sasToken}`);
      expect(again.lines).toEqual(first.lines);
    } finally {
      await big.close();
    }
  });

  it('with cacheBlobs, serves a blob read once from memory: the same bytes, with a Content-Length; faults still apply', async () => {
    const cache = await startSandbox({
      customers: 5,
      now: NOW,
      freezeClock: true,
      graph: { retryAfterSeconds: 0, runningPolls: 0, cacheBlobs: true },
    });
    try {
      const t = await graphToken(cache);
      const { op } = await runExport(cache, t, 'unbilled', { currencyCode: 'USD', billingPeriod: 'current' });
      const m = (await graph(cache, t, new URL(op['resourceLocation@odata.navigationLink']).pathname)).body;
      const url = `${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`;
      const first = await fetch(url);
      expect(first.headers.get('content-length')).toBeNull();
      const firstBytes = Buffer.from(await first.arrayBuffer());
      const second = await fetch(url);
      const secondBytes = Buffer.from(await second.arrayBuffer());
      expect(second.headers.get('content-length')).toBe(String(firstBytes.length));
      expect(secondBytes.equals(firstBytes)).toBe(true);
      cache.graph.faults.set({ resetNextBlobs: 1 });
      const cut = await fetch(url);
      await expect(cut.arrayBuffer()).rejects.toThrow();
      cache.graph.expireSas();
      expect((await download(url)).status).toBe(403);
    } finally {
      await cache.close();
    }
  });

  it('sizes a bench export (1,200,000 lines over 12 blobs) without generating it, and any blob from any line', async () => {
    const big = await startSandbox({
      customers: 50,
      now: NOW,
      freezeClock: true,
      graph: { retryAfterSeconds: 0, runningPolls: 0, blobCount: 12, linesPerBlob: 100_000 },
    });
    const empty = await startSandbox({
      customers: 50,
      now: '2026-03-01T00:10:00Z',
      freezeClock: true,
      graph: { retryAfterSeconds: 0, runningPolls: 0, blobCount: 3, linesPerBlob: 1000 },
    });
    try {
      const t = await graphToken(big);
      const { op } = await runExport(big, t, 'unbilled', { currencyCode: 'USD', billingPeriod: 'current' });
      const m = (await graph(big, t, new URL(op['resourceLocation@odata.navigationLink']).pathname)).body;
      expect(m.blobs.map((b: { lineCount: number }) => b.lineCount)).toEqual(new Array(12).fill(100_000));
      const lines = big.graph.exports()[0].lines;
      if (!lines) throw new Error('no lines');
      expect(lines.totalLines).toBe(1_200_000);
      expect([...lines.lines(1_199_998, 1_200_005)]).toHaveLength(2);
      expect([...lines.lines(1_200_000, 1_200_001)]).toHaveLength(0);
      // A slice from the middle is the same text as the same lines read from an earlier start.
      expect([...lines.lines(600_001, 600_003)]).toEqual([...lines.lines(600_000, 600_003)].slice(1));

      // The first hour of a month has no usage rated yet: no lines, whatever was asked for.
      const te = await graphToken(empty);
      const e = await runExport(empty, te, 'unbilled', { currencyCode: 'USD', billingPeriod: 'current' });
      const me = (await graph(empty, te, new URL(e.op['resourceLocation@odata.navigationLink']).pathname))
        .body;
      expect(me.blobs.map((b: { lineCount: number }) => b.lineCount)).toEqual([0, 0, 0]);
      const emptyBlob = await fetch(`${me.rootDirectory}/${me.blobs[0].name}?${me.sasToken}`);
      expect(emptyBlob.status).toBe(200);
      expect(gunzipSync(Buffer.from(await emptyBlob.arrayBuffer())).length).toBe(0);
    } finally {
      await big.close();
      await empty.close();
    }
  });

  it('checks the SAS: a changed signature or path is refused, an expired one too', async () => {
    const { op } = await runExport(sandbox, token, 'unbilled', {
      currencyCode: 'USD',
      billingPeriod: 'current',
    });
    const m = (await graph(sandbox, token, new URL(op['resourceLocation@odata.navigationLink']).pathname))
      .body;
    const url = `${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`;
    const tampered = url.replace(/sig=([^&])/, (_all, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect((await download(tampered)).status).toBe(403);
    const longer = url.replace(/se=[^&]+/, `se=${encodeURIComponent('2099-01-01T00:00:00.000Z')}`);
    expect((await download(longer)).status).toBe(403);
    expect((await download(url.split('?')[0])).status).toBe(403);
    expect((await download(url)).status).toBe(200);

    sandbox.graph.expireSas();
    const expired = await download(url);
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('<Code>AuthenticationFailed</Code>');
    expect(expired.text).toContain('Signed expiry time');
    // A new export gets a new SAS that works.
    const fresh = await runExport(sandbox, token, 'unbilled', {
      currencyCode: 'USD',
      billingPeriod: 'current',
    });
    const m2 = (
      await graph(sandbox, token, new URL(fresh.op['resourceLocation@odata.navigationLink']).pathname)
    ).body;
    expect((await download(`${m2.rootDirectory}/${m2.blobs[0].name}?${m2.sasToken}`)).status).toBe(200);
  });

  it('expires a SAS when the sandbox clock passes its lifetime, with 410 when asked', async () => {
    const gone = await startSandbox({
      customers: 5,
      now: NOW,
      freezeClock: true,
      graph: { retryAfterSeconds: 0, runningPolls: 0, sasLifetimeSeconds: 60, expiredStatus: 410 },
    });
    try {
      const t = await graphToken(gone);
      const { op } = await runExport(gone, t, 'unbilled', { currencyCode: 'USD', billingPeriod: 'current' });
      const m = (await graph(gone, t, new URL(op['resourceLocation@odata.navigationLink']).pathname)).body;
      const url = `${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`;
      expect((await download(url)).status).toBe(200);
      gone.clock.advance(61_000);
      expect((await download(url)).status).toBe(410);
    } finally {
      await gone.close();
    }
  });

  it('injects faults: 429 with Retry-After, a reset mid-blob, an export failing with 5000', async () => {
    sandbox.graph.faults.set({ throttleNext: 1, throttleRetryAfterSeconds: 7 });
    const throttled = await graph(sandbox, token, `${API}/usage/unbilled/export`, {
      currencyCode: 'USD',
      billingPeriod: 'current',
    });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.body.error.code).toBe('TooManyRequests');

    sandbox.graph.faults.set({ failNextExports: 1 });
    const failed = await runExport(sandbox, token, 'unbilled', {
      currencyCode: 'USD',
      billingPeriod: 'current',
    });
    expect(failed.op.status).toBe('failed');
    expect(failed.op.error).toEqual({ code: '5000', message: 'No data available' });

    const { op } = await runExport(sandbox, token, 'unbilled', {
      currencyCode: 'USD',
      billingPeriod: 'current',
    });
    const m = (await graph(sandbox, token, new URL(op['resourceLocation@odata.navigationLink']).pathname))
      .body;
    sandbox.graph.faults.set({ resetNextBlobs: 1 });
    const response = await fetch(`${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`);
    expect(response.status).toBe(200);
    await expect(response.arrayBuffer()).rejects.toThrow();
    // The next download of the same blob is whole.
    expect((await download(`${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`)).lines.length).toBe(
      m.blobs[0].lineCount,
    );
  });

  it('billed exports: a past month by invoice id, 5000 for a month not yet invoiced, 400 for a malformed id', async () => {
    const invoiceId = sandbox.graph.invoiceId('2026-02-10T00:00:00Z');
    expect(invoiceId).toBe('G202602001');
    const { op } = await runExport(sandbox, token, 'billed', { invoiceId, attributeSet: 'basic' });
    expect(op.status).toBe('succeeded');
    const m = (await graph(sandbox, token, new URL(op['resourceLocation@odata.navigationLink']).pathname))
      .body;
    const { lines } = await download(`${m.rootDirectory}/${m.blobs[0].name}?${m.sasToken}`);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => l.includes(`"${invoiceId}"`))).toBe(true);
    // basic: no full-only fields such as Tags or ResourceGroup.
    expect(lines.some((l) => /"(Tags|ResourceGroup)"/i.test(l))).toBe(false);

    const current = await runExport(sandbox, token, 'billed', { invoiceId: sandbox.graph.invoiceId(NOW) });
    expect(current.op.status).toBe('failed');
    expect(current.op.error.code).toBe('5000');

    const bad = await graph(sandbox, token, `${API}/usage/billed/export`, { invoiceId: 'not-an-invoice' });
    expect(bad.status).toBe(400);
    const missing = await graph(sandbox, token, `${API}/usage/unbilled/export`, { billingPeriod: 'current' });
    expect(missing.status).toBe(400);
  });
});
