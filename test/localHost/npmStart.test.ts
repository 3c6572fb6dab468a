import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describeUnderNode22 } from '../support/node22';
import { startNpmStart, waitForRun } from '../support/npmStartProcess';

// `npm start`'s own server (dist-dev/localHost/start.js, built by `npm test` before jest), driven over
// HTTP: it starts Azurite and the sandbox itself, serves the app's registrations, runs a snapshot
// asked for over the API, and leaves nothing listening after Ctrl-C or a SIGKILL. Under this runner's Node and,
// as Azure runs it, under Node 22.
jest.setTimeout(90_000);

const root = path.resolve(__dirname, '../..');
const repoSettings = path.join(root, 'local.settings.json');

describe(`npm start under this runner's Node ${process.version}`, () => npmStartSuite(process.execPath));
describeUnderNode22('npm start', (node) => npmStartSuite(node));

function npmStartSuite(node: string): void {
  let child: ChildProcess;
  let output = '';
  let url = '';
  let sandboxUrl = '';
  let azuriteUrl = '';

  /** `npm start` on free ports with its own settings file, once it has listed every function. */
  const launch = (options: { viaNpm?: boolean } = {}) =>
    startNpmStart({
      tablePrefix: 'e2e',
      functionKey: 'e2e-function-key',
      masterKey: 'e2e-master-key',
      node,
      viaNpm: options.viaNpm,
      // The default resume schedule (every five minutes): a requested run must start through the
      // request queue, not the timer.
      resumeSchedule: '0 */5 * * * *',
    });

  let settingsFile = '';
  let liveOutput = () => '';
  beforeAll(async () => {
    const started = await launch();
    output = started.output();
    liveOutput = started.output;
    ({ child, url, sandboxUrl, azuriteUrl, settingsFile } = started);
  });

  afterAll(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  const fnKey = { 'x-functions-key': 'e2e-function-key' };
  const masterKey = { 'x-functions-key': 'e2e-master-key' };

  test('when npm start is up, then it lists every registered function and health answers 200', async () => {
    for (const name of [
      'health',
      'customers',
      'snapshots',
      'snapshotTimer',
      'snapshotResumeTimer',
      'retentionTimer',
      'snapshotRequest',
    ]) {
      expect(output).toContain(`  ${name}: `);
    }
    const res = await fetch(`${url}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  test('when a snapshot is asked for over the API, then its queue message starts it and every route serves it', async () => {
    const before = fs.existsSync(repoSettings) ? fs.readFileSync(repoSettings, 'utf8') : undefined;
    expect((await fetch(`${url}/api/v1/snapshots`, { method: 'POST', headers: fnKey })).status).toBe(401);
    const accepted = await fetch(`${url}/api/v1/snapshots`, { method: 'POST', headers: masterKey });
    expect(accepted.status).toBe(202);
    const { data: run } = (await accepted.json()) as { data: { runId: string } };

    const state = await waitForRun(url, 'e2e-master-key', run.runId);
    expect(state).toBe('succeeded');
    // Started by the queue trigger, not by the resume timer.
    expect(liveOutput()).toContain(`[snapshotRequest] information: snapshot request ${run.runId}: finished`);

    const customers = await fetch(`${url}/api/v1/customers?limit=1000`, { headers: fnKey });
    expect(customers.status).toBe(200);
    const list = (await customers.json()) as {
      snapshot: { runId: string };
      data: Array<{ customerId: string }>;
    };
    expect(list.snapshot.runId).toBe(run.runId);
    expect(list.data).toHaveLength(12);
    const summary = await fetch(`${url}/api/v1/customers/${list.data[0].customerId}/usage-summary`, {
      headers: fnKey,
    });
    expect(summary.status).toBe(200);
    expect((await fetch(`${url}/api/v1/customers`)).status).toBe(401);
    // The rotated refresh token went to the --settings file, not the developer's own, which kept
    // its owner-only mode.
    expect(fs.existsSync(repoSettings) ? fs.readFileSync(repoSettings, 'utf8') : undefined).toBe(before);
    const written = JSON.parse(fs.readFileSync(settingsFile, 'utf8')) as { Values: Record<string, string> };
    expect(written.Values.PARTNER_CENTER_REFRESH_TOKEN).not.toBe('sandbox-refresh-token');
    expect(fs.statSync(settingsFile).mode & 0o777).toBe(0o600);
  });

  test('when Ctrl-C reaches npm start, then it exits 0 and nothing it started is left listening', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const target of [url, sandboxUrl, azuriteUrl]) {
      const { hostname, port } = new URL(target);
      expect(await accepts(hostname, Number(port))).toBe(false);
    }
  });

  test.each([
    ['its node process', false],
    ['npm itself', true],
  ])(
    'when npm start (%s) is killed with SIGKILL, then its server, Azurite and sandbox stop answering within 10 s',
    async (_, viaNpm) => {
      const started = await launch({ viaNpm });
      const targets = [started.url, started.sandboxUrl, started.azuriteUrl].map((target) => new URL(target));
      for (const { hostname, port } of targets) expect(await accepts(hostname, Number(port))).toBe(true);

      started.child.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      let listening = targets;
      while (listening.length > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        const still = await Promise.all(
          listening.map(({ hostname, port }) => accepts(hostname, Number(port))),
        );
        listening = listening.filter((_, i) => still[i]);
      }
      expect(listening.map(String)).toEqual([]);
    },
  );
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
