import { execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startNpmStart, waitForRun } from '../support/npmStartProcess';

// A portal developer's first hour: generate types from the document `npm start` serves, write a
// small client with openapi-fetch, compile it with `tsc --strict` and run it. The client has no
// cast and no media-type override; if the document made `data` a union (JSON | CSV) or left a
// parameter `unknown`, the compile step fails.
jest.setTimeout(150_000);

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const FUNCTION_KEY = 'typed-client-function-key';
const MASTER_KEY = 'typed-client-master-key';
let child: ChildProcess;
let url = '';

beforeAll(async () => {
  ({ child, url } = await startNpmStart({
    tablePrefix: 'client',
    functionKey: FUNCTION_KEY,
    masterKey: MASTER_KEY,
  }));
  const accepted = await fetch(`${url}/api/v1/snapshots`, {
    method: 'POST',
    headers: { 'x-functions-key': MASTER_KEY },
  });
  expect(accepted.status).toBe(202);
  const { data: requested } = (await accepted.json()) as { data: { runId: string } };
  expect(await waitForRun(url, MASTER_KEY, requested.runId)).toBe('succeeded');
});

afterAll(async () => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
});

const CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './api';

const client = createClient<paths>({
  baseUrl: \`\${process.env.BASE_URL}/api\`,
  headers: { 'x-functions-key': process.env.FUNCTION_KEY },
});

async function main(): Promise<void> {
  const customerIds: string[] = [];
  let continuationToken: string | undefined;
  let pages = 0;
  do {
    const { data, error } = await client.GET('/v1/customers', {
      params: { query: { limit: 5, continuationToken } },
    });
    if (!data) throw new Error(JSON.stringify(error));
    for (const customer of data.data) customerIds.push(customer.customerId);
    continuationToken = data.continuationToken ?? undefined;
    pages++;
  } while (continuationToken !== undefined);

  const summary = await client.GET('/v1/customers/{customerId}/usage-summary', {
    params: { path: { customerId: customerIds[0] } },
  });
  if (!summary.data) throw new Error(JSON.stringify(summary.error));
  const summaryCustomerId: string | null = summary.data.data ? summary.data.data.customerId : null;
  const summaryTotal: string | null = summary.data.data ? summary.data.data.totalCost : null;

  let resourcesJson: { subscriptionId: string; count: number; totalCosts: string[] } | undefined;
  let resourcesCsv = '';
  for (const customerId of customerIds) {
    const subscriptions = await client.GET('/v1/customers/{customerId}/subscriptions', {
      params: { path: { customerId } },
    });
    if (!subscriptions.data) throw new Error(JSON.stringify(subscriptions.error));
    const legacy = subscriptions.data.data.find((s) => s.hasResourceBreakdown);
    if (!legacy) continue;
    const path = { customerId, subscriptionId: legacy.subscriptionId };
    const json = await client.GET('/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources', {
      params: { path },
    });
    if (!json.data) throw new Error(JSON.stringify(json.error));
    const resources = json.data.data.resources;
    resourcesJson = {
      subscriptionId: json.data.data.subscription.subscriptionId,
      count: resources.length,
      totalCosts: resources.map((r) => r.totalCost),
    };
    const csv = await client.GET('/v1/customers/{customerId}/subscriptions/{subscriptionId}/resources', {
      params: { path, query: { format: 'csv' } },
      parseAs: 'text',
    });
    if (csv.data === undefined) throw new Error(JSON.stringify(csv.error));
    const text: string = csv.data;
    resourcesCsv = text;
    break;
  }
  console.log(JSON.stringify({ pages, customerIds, summaryCustomerId, summaryTotal, resourcesJson, resourcesCsv }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
`;

test('when a portal generates types from the served document, then a strict client compiles without casts and reads JSON and CSV', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-client-'));
  // The temporary project resolves openapi-fetch and @types/node as an installed project would.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  await run(process.execPath, [
    path.join(root, 'node_modules/openapi-typescript/bin/cli.js'),
    `${url}/api/v1/openapi.json`,
    '--output',
    path.join(dir, 'api.d.ts'),
  ]);
  fs.writeFileSync(path.join(dir, 'client.ts'), CLIENT);
  const compiled = await run(process.execPath, [
    path.join(root, 'node_modules/typescript/bin/tsc'),
    '--strict',
    '--target',
    'es2022',
    '--module',
    'commonjs',
    '--esModuleInterop',
    '--types',
    'node',
    '--outDir',
    path.join(dir, 'out'),
    path.join(dir, 'client.ts'),
  ]).catch((error: { stdout?: string; stderr?: string }) => ({
    stdout: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    failed: true,
  }));
  expect(compiled).not.toHaveProperty('failed');

  const { stdout } = await run(process.execPath, [path.join(dir, 'out/client.js')], {
    env: { ...process.env, BASE_URL: url, FUNCTION_KEY },
  });
  const result = JSON.parse(stdout) as {
    pages: number;
    customerIds: string[];
    summaryCustomerId: string | null;
    resourcesJson?: { subscriptionId: string; count: number; totalCosts: string[] };
    resourcesCsv: string;
  };
  expect(result.customerIds).toHaveLength(12);
  expect(new Set(result.customerIds).size).toBe(12);
  expect(result.pages).toBe(3);
  expect(result.summaryCustomerId).toBe(result.customerIds[0]);
  expect(result.resourcesJson?.count).toBeGreaterThan(0);
  const lines = result.resourcesCsv.trimEnd().split('\r\n');
  expect(lines[0]).toMatch(/^subscriptionId,resourceId,/);
  expect(lines).toHaveLength((result.resourcesJson?.count ?? 0) + 1);
  expect(lines[1].startsWith(`${result.resourcesJson?.subscriptionId},`)).toBe(true);
});
