import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../dev/localHost/freePort';
import { uniqueTablePrefix } from './tables';

const root = path.resolve(__dirname, '../..');

export interface NpmStartProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  output: () => string;
  url: string;
  sandboxUrl: string;
  azuriteUrl: string;
  /** The settings file it reads and writes rotated secrets back to (mode 600). */
  settingsFile: string;
}

/**
 * `npm start`'s own server (dist-dev/localHost/start.js, built by `npm test` before jest) with its
 * own settings file (a run rotates the refresh token and writes it back there, which must never
 * touch a developer's local.settings.json), its own tables and keys, and a resume timer every
 * second so a requested run is picked up at once.
 */
export async function startNpmStart(options: {
  tablePrefix: string;
  functionKey: string;
  masterKey: string;
  customers?: number;
  /** The Node binary that runs it (default: this runner's). */
  node?: string;
  /** Through npm itself (npm, its shell, then node), for tests about npm's process tree. */
  viaNpm?: boolean;
  /** SNAPSHOT_RESUME_SCHEDULE (default every second, so a requested run is picked up at once). */
  resumeSchedule?: string;
}): Promise<NpmStartProcess> {
  const sandboxPort = await freePort();
  const settings = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'npm-start-e2e-')), 'local.settings.json');
  fs.copyFileSync(path.join(root, 'local.settings.sample.json'), settings);
  fs.chmodSync(settings, 0o600);
  const node = options.node ?? process.execPath;
  const args = ['--port', '0', '--customers', String(options.customers ?? 12), '--settings', settings];
  // --ignore-scripts skips prestart's build, done before jest.
  const npmCli = process.env.npm_execpath;
  const [command, argv] = !options.viaNpm
    ? [node, [path.join(root, 'dist-dev/localHost/start.js'), ...args]]
    : npmCli && npmCli.endsWith('.js')
      ? [node, [npmCli, 'start', '--ignore-scripts', '--', ...args]]
      : ['npm', ['start', '--ignore-scripts', '--', ...args]];
  const child = spawn(command, argv, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PARTNER_CENTER_BASE_URL: `http://127.0.0.1:${sandboxPort}`,
      PARTNER_CENTER_AUTHORITY_HOST: `http://127.0.0.1:${sandboxPort}`,
      STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      TABLE_NAME_PREFIX: uniqueTablePrefix(options.tablePrefix),
      SNAPSHOT_RESUME_SCHEDULE: options.resumeSchedule ?? '*/1 * * * * *',
      LOCAL_HOST_FUNCTION_KEY: options.functionKey,
      LOCAL_HOST_MASTER_KEY: options.masterKey,
    },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  // The launcher's last line: by then every function has been listed.
  while (!output.includes('Ctrl-C stops')) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    url: (/Functions \((http:\/\/[^)]+)\)/.exec(output) as RegExpExecArray)[1],
    sandboxUrl: (/Partner Center sandbox: (\S+)/.exec(output) as RegExpExecArray)[1],
    azuriteUrl: (/Azurite \(in memory\): (\S+)/.exec(output) as RegExpExecArray)[1],
    settingsFile: settings,
  };
}

/** Waits until the run ends (or 45 s pass) and returns its last state. */
export async function waitForRun(url: string, masterKey: string, runId: string): Promise<string> {
  let state = '';
  const deadline = Date.now() + 45_000;
  while (!['succeeded', 'partial', 'failed'].includes(state) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const runs = (await (
      await fetch(`${url}/api/v1/snapshots`, { headers: { 'x-functions-key': masterKey } })
    ).json()) as {
      data: Array<{ runId: string; state: string }>;
    };
    state = runs.data.find((r) => r.runId === runId)?.state ?? '';
  }
  return state;
}
