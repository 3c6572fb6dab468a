import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  DEV_STORAGE_QUEUE_PORT,
  DEV_STORAGE_TABLE_PORT,
  azuriteConnectionString,
} from '../../dev/localHost/azurite';
import { freePort } from '../../dev/localHost/freePort';
import { runtimeFilePath } from '../../dev/localHost/runtimeFile';
import { uniqueTablePrefix, azuriteConnectionString as testAzurite } from '../support/tables';

// `npm start` and `npm run snapshot` (dist/, built by `npm test` before jest) as a new user runs
// them in two terminals: with the development-storage ports taken, `npm start` moves Azurite and
// the CLI still reaches the same storage; the CLI tells "nothing listening" apart from "refused".
jest.setTimeout(120_000);

const root = path.resolve(__dirname, '../..');
const held: net.Server[] = [];
let child: ChildProcess | undefined;
let output = '';
let settings = '';
const env = () => ({
  ...process.env,
  STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  QUEUE_STORAGE: 'UseDevelopmentStorage=true',
  TABLE_NAME_PREFIX: prefix,
  LOCAL_HOST_FUNCTION_KEY: 'cli-function-key',
  LOCAL_HOST_MASTER_KEY: 'cli-master-key',
});
const prefix = uniqueTablePrefix('cli');
let sandboxPort = 0;

/** Holds a port the way another program would; one already taken is taken all the same. */
async function hold(port: number): Promise<void> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => {
    server.once('error', () => resolve());
    server.listen(port, '127.0.0.1', () => {
      held.push(server);
      resolve();
    });
  });
}

function newSettings(values: Record<string, string>): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-cli-')), 'local.settings.json');
  const sample = JSON.parse(fs.readFileSync(path.join(root, 'local.settings.sample.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  Object.assign(sample.Values, values);
  fs.writeFileSync(file, JSON.stringify(sample), { mode: 0o600 });
  return file;
}

function snapshotCli(
  settingsFile: string,
  extraEnv: Record<string, string> = {},
  args: string[] = [],
): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    const cli = spawn(
      process.execPath,
      [path.join(root, 'dist-dev/cli/snapshot.js'), '--settings', settingsFile, ...args],
      {
        cwd: root,
        env: { ...env(), ...extraEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let text = '';
    cli.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    cli.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    cli.once('exit', (code) => resolve({ code, text }));
  });
}

beforeAll(async () => {
  await hold(DEV_STORAGE_TABLE_PORT);
  await hold(DEV_STORAGE_QUEUE_PORT);
  sandboxPort = await freePort();
  settings = newSettings({
    PARTNER_CENTER_BASE_URL: `http://127.0.0.1:${sandboxPort}`,
    PARTNER_CENTER_AUTHORITY_HOST: `http://127.0.0.1:${sandboxPort}`,
  });
  child = spawn(
    process.execPath,
    [
      path.join(root, 'dist-dev/localHost/start.js'),
      ...['--port', '0', '--customers', '6', '--settings', settings, '--no-timers'],
      ...['--sandbox-now', '2026-03-15T12:00:00Z', '--sandbox-freeze-clock'],
    ],
    { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Ctrl-C stops')) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const server of held) await new Promise((r) => server.close(r));
});

test('when the development-storage ports are taken, then npm start says where Azurite went and records it owner-only', () => {
  expect(output).toMatch(/is taken: Azurite moves to free ports/);
  const runtimeFile = runtimeFilePath(settings);
  const runtime = JSON.parse(fs.readFileSync(runtimeFile, 'utf8')) as { pid: number; tableEndpoint: string };
  expect(runtime.pid).toBe(child?.pid);
  expect(runtime.tableEndpoint).not.toContain(`:${DEV_STORAGE_TABLE_PORT}/`);
  expect(output).toContain(`Azurite (in memory): ${runtime.tableEndpoint}`);
  expect(fs.statSync(runtimeFile).mode & 0o077).toBe(0);
});

test('when npm run snapshot runs beside it with UseDevelopmentStorage=true, then it fills the storage npm start serves, on the sandbox clock npm start was given', async () => {
  const { code, text } = await snapshotCli(settings);
  expect(text).toMatch(/: succeeded in /);
  expect(code).toBe(0);
  const url = (/Functions \((http:\/\/[^)]+)\)/.exec(output) as RegExpExecArray)[1];
  const res = await fetch(`${url}/api/v1/customers?limit=100`, {
    headers: { 'x-functions-key': 'cli-function-key' },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { snapshot: { billingPeriod: { start: string } }; data: unknown[] };
  expect(body.data).toHaveLength(6);
  // --sandbox-now 2026-03-15 with a frozen clock: the sandbox's current billing period is March 2026.
  expect(body.snapshot.billingPeriod.start).toMatch(/^2026-03-01/);
});

test('when npm run snapshot runs again on the frozen sandbox, then it carries every customer over, and with --full it reads them all', async () => {
  const again = await snapshotCli(settings);
  expect(again.code).toBe(0);
  expect(again.text).toMatch(/customers 6 written \(0 fetched, 6 carried over\)/);
  const full = await snapshotCli(settings, {}, ['--full']);
  expect(full.code).toBe(0);
  expect(full.text).toMatch(/customers 6 written \(6 fetched, 0 carried over\)/);
});

test('when npm start stops, then it removes its runtime file', async () => {
  const exited = new Promise((r) => child?.once('exit', r));
  child?.kill('SIGTERM');
  await exited;
  expect(fs.existsSync(runtimeFilePath(settings))).toBe(false);
});

test('when nothing listens where the settings point, then the CLI says so', async () => {
  const port = await freePort();
  const file = newSettings({ STORAGE_CONNECTION_STRING: azuriteConnectionString(port) });
  const { code, text } = await snapshotCli(file, {
    STORAGE_CONNECTION_STRING: azuriteConnectionString(port),
    PARTNER_CENTER_BASE_URL: 'https://partner.example.invalid',
  });
  expect(code).toBe(1);
  expect(text).toContain(`nothing is listening at http://127.0.0.1:${port}/devstoreaccount1`);
});

test('when storage answers but refuses the key, then the CLI says the credentials were refused, without the key', async () => {
  const wrongKey = testAzurite().replace(
    /AccountKey=[^;]+/,
    `AccountKey=${Buffer.from('not the key').toString('base64')}`,
  );
  const file = newSettings({});
  const { code, text } = await snapshotCli(file, {
    STORAGE_CONNECTION_STRING: wrongKey,
    PARTNER_CENTER_BASE_URL: 'https://partner.example.invalid',
  });
  expect(code).toBe(1);
  expect(text).toMatch(/answered but refused the credentials \(403/);
  expect(text).not.toContain('AccountKey');
});
