import { randomBytes } from 'node:crypto';
import { sandboxAppEnv } from '../../bench/support/appEnv';
import { resetDependencies } from '../../src/app/dependencies';
import { resetSettingsCache } from '../../src/config/settings';
import { startLocalHost, type LocalHost } from '../../dev/localHost/host';
import { startSandbox, type Sandbox } from '../../dev/sandbox';
import { toUnits } from '../sandbox/support';
import { azuriteConnectionString, uniqueTablePrefix } from '../support/tables';

/**
 * The whole pipeline as `npm start` runs it: the app's own registrations under the local host,
 * whose queue trigger reads USAGE_EXPORT_QUEUE from Azurite with the host's semantics; Graph is
 * the sandbox over HTTP. The timers are run by hand (their schedules are daily and five-minutely).
 */
jest.setTimeout(120_000);

const NOW = '2026-03-15T12:00:00Z';
let sandbox: Sandbox;
let host: LocalHost;
const lines: string[] = [];
const fnKey = { 'x-functions-key': 'fk' };
const master = { 'x-functions-key': 'mk' };

beforeAll(async () => {
  sandbox = await startSandbox({
    customers: 8,
    now: NOW,
    freezeClock: true,
    graph: { retryAfterSeconds: 0, blobCount: 3, runningPolls: 1 },
  });
  Object.assign(
    process.env,
    sandboxAppEnv(azuriteConnectionString(), sandbox, {
      GRAPH_BASE_URL: sandbox.graph.baseUrl,
      QUEUE_STORAGE: azuriteConnectionString(),
      USAGE_EXPORT_QUEUE: `usage-export-${randomBytes(4).toString('hex')}`,
      TABLE_NAME_PREFIX: uniqueTablePrefix('ux'),
    }),
  );
  resetSettingsCache();
  resetDependencies();
  const { registerFunctions } = await import('../../src/functions/register');
  registerFunctions({
    only: [
      'usageExportTimer',
      'usageExportPollTimer',
      'usageExportWork',
      'customerDailyUsage',
      'partnerDailyUsage',
      'usageExports',
    ],
  });
  host = await startLocalHost({
    port: 0,
    functionKey: 'fk',
    masterKey: 'mk',
    timers: false,
    queues: true,
    queueOptions: { visibilityTimeoutMs: 0 },
    log: (line) => lines.push(line),
  });
});
afterAll(async () => {
  await host?.close();
  await sandbox?.close();
});

interface ExportBody {
  exportId: string;
  state: string;
  kind: string;
  billingPeriod: string | null;
  blobCount: number | null;
  blobsDone: number;
  linesRead: number;
}

async function exportsList(): Promise<ExportBody[]> {
  const res = await fetch(`${host.url}/api/v1/usage-exports`, { headers: master });
  expect(res.status).toBe(200);
  const text = await res.text();
  // The list never answers a blob URL: they carry the SAS.
  expect(text).not.toMatch(/sig=|[?&]se=/);
  return (JSON.parse(text) as { data: ExportBody[] }).data;
}

/** Runs the poll timer until the export is finished; the queue trigger does the rest on its own. */
async function untilFinished(exportId: string): Promise<ExportBody> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    await host.runTimer('usageExportPollTimer');
    const found = (await exportsList()).find((e) => e.exportId === exportId);
    if (found && ['succeeded', 'partial', 'failed', 'noData', 'expired'].includes(found.state)) return found;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`export ${exportId} did not finish:\n${lines.slice(-20).join('\n')}`);
}

test('when the schedule fires, then the export runs through the queue trigger and the routes serve sums exact to Partner Center', async () => {
  await host.runTimer('usageExportTimer');
  const started = await exportsList();
  const current = started.find((e) => e.billingPeriod === 'current')!;
  expect(started.map((e) => e.billingPeriod).sort()).toEqual(['current', 'last']);
  const done = await untilFinished(current.exportId);
  expect(done).toMatchObject({ state: 'succeeded', blobCount: 3, blobsDone: 3 });
  expect(lines.some((l) => l.includes('[usageExportWork]'))).toBe(true);
  // Nor does the host's log, though every blob was opened with its SAS.
  expect(lines.filter((l) => /sig=/.test(l))).toEqual([]);

  const asOf = sandbox.graph.exports().find((e) => e.billingPeriod === 'current')!.asOf;
  let checked = 0;
  for (const customer of sandbox.data.customers()) {
    const res = await fetch(
      `${host.url}/api/v1/customers/${customer.id}/daily-usage?from=2026-03-01&to=2026-03-31&groupBy=total`,
      { headers: fnKey },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      data: Array<{ billingTotal: string }>;
      sources: Array<{ exportId: string }>;
    };
    const sum = body.data.reduce((s, p) => s + toUnits(p.billingTotal), 0n);
    expect({ customer: customer.id, sum }).toEqual({
      customer: customer.id,
      sum: sandbox.customerUsage(customer.index, asOf).totalCost,
    });
    if (sum > 0n) {
      checked++;
      expect(body.sources.map((s) => s.exportId)).toEqual([current.exportId]);
      // CSV of the same, and a 304 on the ETag.
      const url = `${host.url}/api/v1/customers/${customer.id}/daily-usage?from=2026-03-01&to=2026-03-31&groupBy=meterCategory&format=csv`;
      const csv = await fetch(url, { headers: fnKey });
      expect(csv.headers.get('content-type')).toContain('text/csv');
      expect((await csv.text()).split('\r\n')[0]).toBe(
        'day,customerId,value,label,billingCurrency,billingTotal,pricingCurrency,pricingTotal,lines',
      );
      const again = await fetch(url, {
        headers: { ...fnKey, 'If-None-Match': csv.headers.get('etag') as string },
      });
      expect(again.status).toBe(304);
    }
  }
  expect(checked).toBeGreaterThan(2);

  const partner = await fetch(
    `${host.url}/api/v1/daily-usage?from=2026-03-01&to=2026-03-31&groupBy=customer`,
    {
      headers: fnKey,
    },
  );
  const partnerBody = (await partner.json()) as { data: Array<{ customerId: string; billingTotal: string }> };
  const partnerSum = partnerBody.data.reduce((s, p) => s + toUnits(p.billingTotal), 0n);
  let expected = 0n;
  for (const c of sandbox.data.customers()) expected += sandbox.customerUsage(c.index, asOf).totalCost;
  expect(partnerSum).toBe(expected);

  // Partner-wide by resource group (named with its customer) and by tag (summed over customers,
  // with the untagged remainder): each adds up to the same total, and a tag's values agree with
  // the customers' own tag routes.
  type Point = { customerId?: string; value: string | null; billingTotal: string };
  const read = async (path: string) => {
    const res = await fetch(`${host.url}/api/v1/${path}`, { headers: fnKey });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Point[] }).data;
  };
  const sum = (points: Point[]) => points.reduce((s, p) => s + toUnits(p.billingTotal), 0n);
  const groups = await read('daily-usage?from=2026-03-01&to=2026-03-31&groupBy=resourceGroup');
  expect(sum(groups)).toBe(expected);
  expect(groups.every((p) => p.customerId !== undefined)).toBe(true);
  const env = await read('daily-usage?from=2026-03-01&to=2026-03-31&groupBy=tag:ENV');
  expect(sum(env)).toBe(expected);
  expect(env.some((p) => p.value === null)).toBe(true);
  expect(env.some((p) => p.value !== null)).toBe(true);
  const byValue = (points: Point[]) => {
    const out = new Map<string, bigint>();
    for (const p of points)
      out.set(String(p.value), (out.get(String(p.value)) ?? 0n) + toUnits(p.billingTotal));
    return out;
  };
  const fromCustomers: Point[] = [];
  for (const customer of sandbox.data.customers())
    fromCustomers.push(
      ...(await read(`customers/${customer.id}/daily-usage?from=2026-03-01&to=2026-03-31&groupBy=tag:env`)),
    );
  expect(byValue(env)).toEqual(byValue(fromCustomers));
});

test('when input is wrong or the key is missing, then typed 4xx with a JSON body', async () => {
  const id = [...sandbox.data.customers()][0].id;
  const bad = await fetch(`${host.url}/api/v1/customers/${id}/daily-usage?from=2026-03-01&to=2026-02-01`, {
    headers: fnKey,
  });
  expect(bad.status).toBe(400);
  expect(await bad.json()).toMatchObject({ error: { code: 'InvalidQuery' } });
  expect((await fetch(`${host.url}/api/v1/daily-usage?from=2026-03-01&to=2026-03-02`)).status).toBe(401);
  expect((await fetch(`${host.url}/api/v1/usage-exports`, { headers: fnKey })).status).toBe(401);
  // The billed-export body: the same rules as the budget PUT's (one reader), each a typed answer.
  const post = async (body: string, type?: string) => {
    const res = await fetch(`${host.url}/api/v1/usage-exports`, {
      method: 'POST',
      headers: type === undefined ? master : { ...master, 'Content-Type': type },
      body,
    });
    const answer = (await res.json()) as { error: { code: string } };
    return [res.status, answer.error.code];
  };
  const json = 'application/json';
  expect(await post(JSON.stringify({ invoiceId: 'G1', extra: true }), json)).toEqual([400, 'InvalidBody']);
  expect(await post(JSON.stringify({ invoiceId: 'G1?x' }), json)).toEqual([400, 'InvalidBody']);
  expect(await post('{"invoiceId":', json)).toEqual([400, 'InvalidBody']);
  expect(await post('["G1"]', json)).toEqual([400, 'InvalidBody']);
  expect(await post(JSON.stringify({ invoiceId: 'G1', pad: 'x'.repeat(2000) }), json)).toEqual([
    400,
    'InvalidBody',
  ]);
  expect(await post(JSON.stringify({ invoiceId: 'G1' }), 'text/plain')).toEqual([
    415,
    'UnsupportedMediaType',
  ]);
});

test('when a billed export is asked for, then it is started (202) and followed to the end', async () => {
  const invoiceId = sandbox.graph.invoiceId(Date.parse('2026-02-15T00:00:00Z'));
  const res = await fetch(`${host.url}/api/v1/usage-exports`, {
    method: 'POST',
    headers: { ...master, 'Content-Type': 'application/json' },
    body: JSON.stringify({ invoiceId }),
  });
  expect(res.status).toBe(202);
  const { data } = (await res.json()) as { data: ExportBody & { invoiceId: string } };
  expect(data).toMatchObject({ kind: 'billed', invoiceId, state: 'running' });
  expect((await untilFinished(data.exportId)).state).toBe('succeeded');
});
