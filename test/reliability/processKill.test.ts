import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resumeActiveRun } from '../../src/snapshot/runSnapshot';
import { SECRET_NAMES } from '../partnerCenter/harness';
import { azuriteConnectionString } from '../support/tables';
import {
  beginCase,
  captureAll,
  expectNextRunCompletes,
  expectResumedRunComplete,
  finishedRun,
  requestsSince,
  runListRows,
  seedSnapshot,
  startReliabilityHarness,
  storeOver,
  waitFor,
  whileReading,
  type ReliabilityHarness,
} from './support';

/** `npm test` builds dist/ before jest runs; `npm run snapshot -- --settings FILE` runs this same file. */
const CLI = path.resolve(__dirname, '../../dist-dev/cli/snapshot.js');
/** The lease an invocation takes (runSnapshot's default; the CLI has no setting for it). */
const LEASE_TTL_MS = 60_000;

describe('fault matrix: process killed mid-run', () => {
  let h: ReliabilityHarness;
  let child: ChildProcess | undefined;
  let cleanup = () => undefined as void;
  beforeAll(async () => {
    h = await startReliabilityHarness({ sandbox: { customers: 40 } });
    await seedSnapshot(h);
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    cleanup();
    await h.close();
  });

  test('when `npm run snapshot` (dist-dev/cli/snapshot.js) is killed with SIGKILL after its first checkpoint, then the run stays running under its lease, a later invocation resumes it once the lease lapses, skips the checkpointed customers, leaves every customer once with one history point, readers never see a half-written snapshot, and the next run completes', async () => {
    expect(fs.existsSync(CLI)).toBe(true);
    const before = await beginCase(h);
    // Slow answers, so the child is still working when its first checkpoint (every 2 s) lands.
    h.sandbox.faults.set({ latencyMs: 50 });
    const values: Record<string, string> = {
      PARTNER_CENTER_BASE_URL: h.sandbox.baseUrl,
      PARTNER_CENTER_AUTHORITY_HOST: h.sandbox.baseUrl,
      PARTNER_CENTER_TENANT_ID: h.sandbox.credentials.tenantId,
      PARTNER_CENTER_CLIENT_ID: h.sandbox.credentials.clientId,
      PARTNER_CENTER_CLIENT_SECRET: h.sandbox.credentials.clientSecret,
      // What Key Vault would hand a new process: the newest stored refresh token.
      PARTNER_CENTER_REFRESH_TOKEN: await h.secrets.getSecret(SECRET_NAMES.refreshTokenName),
      PARTNER_CENTER_REQUESTS_PER_MINUTE: '100000',
      PARTNER_CENTER_TIMEOUT_SECONDS: '10',
      KEY_VAULT_URI: '',
      STORAGE_CONNECTION_STRING: azuriteConnectionString(),
      STORAGE_TABLE_ENDPOINT: '',
      TABLE_NAME_PREFIX: h.store.prefix,
      SNAPSHOT_CUSTOMER_CONCURRENCY: '2',
    };
    // Its own settings file: the CLI keeps its refresh token there and writes rotations back, so it
    // must never be the developer's local.settings.json.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reliability-kill-'));
    const settingsFile = path.join(dir, 'local.settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ IsEncrypted: false, Values: values }));
    cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
    let output = '';
    const started = spawn(process.execPath, [CLI, '--settings', settingsFile], {
      env: { ...process.env, ...values },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(started, 'exit');

    const { result, polls } = await whileReading(h.store, async () => {
      let runId = '';
      await waitFor(
        async () => {
          if (started.exitCode !== null) throw new Error(`the CLI ended before it was killed:\n${output}`);
          const active = await h.store.runs.activeRun();
          if (!active?.holder) return false;
          runId = active.run.runId;
          return (await runListRows(h.store, runId)).length > 0;
        },
        30_000,
        25,
      );
      started.kill('SIGKILL');
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      h.sandbox.faults.set({ latencyMs: 0 });
      // The sandbox counts a request when it answers, after its 50 ms latency: a request the child
      // sent just before it died is still counted then. Let those drain before the baseline below.
      await new Promise((resolve) => setTimeout(resolve, 250));
      const checkpointed = (await runListRows(h.store, runId)).length;
      const active = await h.store.runs.activeRun();
      // The dead holder's lease is still live: the resume timer must leave the run alone.
      const busy = await resumeActiveRun(h.deps(h.newClient().client));
      // Once its lease has lapsed (a store clock a minute ahead stands in for the wait), resume it.
      const later = await storeOver(
        azuriteConnectionString(),
        { now: () => new Date(Date.now() + LEASE_TTL_MS + 1_000) },
        h.store.prefix,
      );
      const counted = h.sandbox.counters.snapshot();
      const resumed = await resumeActiveRun(h.deps(h.newClient().client, { store: later }));
      const refetched = requestsSince(h.sandbox, counted, 'GET /v1/customers/{customerId}/usagesummary');
      return { runId, code, signal, checkpointed, active, busy, resumed, refetched };
    });
    const after = await captureAll(h.store);
    const customers = h.sandbox.data.customerCount;

    expect({ code: result.code, signal: result.signal }).toEqual({ code: null, signal: 'SIGKILL' });
    expect(result.checkpointed).toBeGreaterThan(0);
    expect(result.checkpointed).toBeLessThan(customers);
    expect(result.active).toMatchObject({ run: { runId: result.runId, state: 'running', trigger: 'cli' } });
    expect(result.active?.holder).toBeDefined();
    expect(result.busy).toEqual({ kind: 'busy', runId: result.runId });
    const run = finishedRun(result.resumed);
    await expectResumedRunComplete(h, run, { ...result, before, after, polls });

    await expectNextRunCompletes(h);
  });
});
