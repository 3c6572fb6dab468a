import { RefreshTokenProvider } from '../../src/partnerCenter/auth';
import { KeyVaultSecretStore } from '../../src/secrets/keyVaultSecretStore';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { startScheduledRun } from '../../src/snapshot/runSnapshot';
import { SECRET_NAMES, settingsFor } from '../partnerCenter/harness';
import { expectWholeSnapshots } from '../snapshot/support';
import { fixedTokenCredential, startKeyVaultFake, type KeyVaultFake } from '../support/keyVaultFake';
import {
  afterCommits,
  answersWith,
  auditRun,
  beginCase,
  captureAll,
  events,
  expectNextRunCompletes,
  finishedRun,
  requestsSince,
  runListRows,
  seedSnapshot,
  startReliabilityHarness,
  TOKEN_ROUTE,
  whileReading,
  type ReliabilityHarness,
} from './support';

/** Access tokens live ten minutes on the sandbox clock; a case moves the clock past that mid-run. */
const ACCESS_TOKEN_SECONDS = 600;

describe('fault matrix: tokens and the secret store', () => {
  let h: ReliabilityHarness;
  let vault: KeyVaultFake;
  beforeAll(async () => {
    vault = await startKeyVaultFake();
    h = await startReliabilityHarness({
      sandbox: { accessTokenLifetimeSeconds: ACCESS_TOKEN_SECONDS },
      // Key Vault, as in Azure: every process reads the newest refresh token from it.
      secrets: async (sandbox) => {
        vault.seed(SECRET_NAMES.clientSecretName, sandbox.credentials.clientSecret);
        vault.seed(SECRET_NAMES.refreshTokenName, sandbox.credentials.refreshToken);
        return new KeyVaultSecretStore(vault.vaultUrl, fixedTokenCredential(), {
          cacheMs: 60_000,
          // The SDK would retry a refused write 3 times over seconds; the app's own retries are tested.
          clientOptions: {
            disableChallengeResourceVerification: true,
            allowInsecureConnection: true,
            retryOptions: { maxRetries: 0 },
          },
        });
      },
    });
    await seedSnapshot(h);
  });
  afterAll(async () => {
    await h.close();
    await vault.close();
  });

  /** Stands in for a partner user consenting again: a refresh token the sandbox accepts, kept aside. */
  async function consentAgain(): Promise<string> {
    const consented = new LocalSecretStore({
      [SECRET_NAMES.clientSecretName]: h.sandbox.credentials.clientSecret,
      [SECRET_NAMES.refreshTokenName]: await h.secrets.getSecret(SECRET_NAMES.refreshTokenName),
    });
    await new RefreshTokenProvider({
      settings: settingsFor(h.sandbox),
      secretStore: consented,
      secretNames: SECRET_NAMES,
      logger: h.logger,
    }).getAccessToken();
    return consented.getSecret(SECRET_NAMES.refreshTokenName);
  }

  test('when the access token expires mid-run, then the 401s lead to exactly one refresh, the run succeeds with every customer written once, readers see whole snapshots, and the next run completes', async () => {
    const before = await beginCase(h);
    const counted = h.sandbox.counters.snapshot();
    const lines = h.lines.length;
    const store = afterCommits(h.store, (n) => {
      if (n === 6) h.sandbox.clock.advance((ACCESS_TOKEN_SECONDS + 1) * 1000);
    });

    const { result, polls } = await whileReading(h.store, () =>
      startScheduledRun(h.deps(h.newClient().client, { store })),
    );
    const run = finishedRun(result);
    const after = await captureAll(h.store);
    const counters = h.sandbox.counters.snapshot();

    expect(run).toMatchObject({
      state: 'succeeded',
      counts: { customersWritten: h.sandbox.data.customerCount, customersFailed: 0 },
    });
    // One grant when the process starts, one after the expiry: however many requests met the 401.
    expect(counters.tokensIssued.refresh_token - counted.tokensIssued.refresh_token).toBe(2);
    const unauthorized = answersWith(counters, '401') - answersWith(counted, '401');
    expect(unauthorized).toBeGreaterThanOrEqual(1);
    const newLines = h.lines.slice(lines);
    expect(newLines.filter((l) => l.line.startsWith('Partner Center answered 401'))).toHaveLength(
      unauthorized,
    );
    expect(events(newLines, 'RefreshTokenRotated')).toHaveLength(2);
    expect(vault.current(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
    await auditRun(h, run, { before, complete: true });
    expectWholeSnapshots(polls, before, after);

    await expectNextRunCompletes(h);
  });

  test('when the refresh token is revoked, then the run fails at once with ReconsentRequired after one token request, the previous snapshot stays served, and after consent the next run completes', async () => {
    const before = await beginCase(h);
    const consented = await consentAgain();
    h.sandbox.revokeRefreshToken(await h.secrets.getSecret(SECRET_NAMES.refreshTokenName));
    const counted = h.sandbox.counters.snapshot();
    const lines = h.lines.length;

    const { result, polls } = await whileReading(h.store, () =>
      startScheduledRun(h.deps(h.newClient().client)),
    );
    const run = finishedRun(result);

    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/^Partner usage summary failed: ReconsentRequired: /);
    expect(requestsSince(h.sandbox, counted, TOKEN_ROUTE)).toEqual({ '400': 1 });
    expect(h.sandbox.counters.snapshot().totalRequests - counted.totalRequests).toBe(1);
    const newLines = h.lines.slice(lines);
    expect(events(newLines, 'RefreshTokenRejected')).toHaveLength(1);
    expect(events(newLines, 'SnapshotRunFailed')).toHaveLength(1);
    expect(events(newLines, 'SnapshotRunFailed')[0].line).toMatch(/ReconsentRequired/);
    expect(await runListRows(h.store, run.runId)).toEqual([]);
    expect(await captureAll(h.store)).toEqual(before);
    expectWholeSnapshots(polls, before, before);
    expect(await h.store.runs.activeRun()).toBeUndefined();

    // The operator stores the refresh token of the new consent.
    await h.secrets.setSecret(SECRET_NAMES.refreshTokenName, consented);
    await expectNextRunCompletes(h);
  });

  test('when the refresh token is revoked mid-run, then the run fails with ReconsentRequired at the next refresh, the customers it finished are kept once, the previous list stays served, and after consent the next run completes', async () => {
    const before = await beginCase(h);
    const consented = await consentAgain();
    const counted = h.sandbox.counters.snapshot();
    const lines = h.lines.length;
    const store = afterCommits(h.store, (n) => {
      if (n !== 6) return;
      h.sandbox.revokeRefreshToken(h.sandbox.latestRefreshToken());
      h.sandbox.clock.advance((ACCESS_TOKEN_SECONDS + 1) * 1000);
    });

    const { result, polls } = await whileReading(h.store, () =>
      startScheduledRun(h.deps(h.newClient().client, { store })),
    );
    const run = finishedRun(result);
    const after = await captureAll(h.store);

    expect(run.state).toBe('failed');
    expect(run.reason).toMatch(/^Run stopped: ReconsentRequired: /);
    // One grant at the start, then a single refused one: no storm against Entra.
    expect(requestsSince(h.sandbox, counted, TOKEN_ROUTE)).toEqual({ '200': 1, '400': 1 });
    expect(events(h.lines.slice(lines), 'RefreshTokenRejected')).toHaveLength(1);
    const { written, failed } = await auditRun(h, run, { before, complete: false });
    expect(written.length).toBeGreaterThanOrEqual(6);
    expect(written.length).toBeLessThan(h.sandbox.data.customerCount);
    expect(failed).toEqual([]);
    // The failed run is never published: the list and the partner summary stay the previous run's.
    expect(after.list).toBe(before.list);
    expect(after.partner).toBe(before.partner);
    expectWholeSnapshots(polls, before, after);
    expect(await h.store.runs.activeRun()).toBeUndefined();

    await h.secrets.setSecret(SECRET_NAMES.refreshTokenName, consented);
    await expectNextRunCompletes(h);
  });

  test('when Key Vault refuses to store the rotated refresh token, then the run succeeds on the token kept in memory, RefreshTokenPersistFailed is logged once, readers see whole snapshots, and the same process stores it on a later call once Key Vault recovers', async () => {
    const before = await beginCase(h);
    const stored = vault.versions(SECRET_NAMES.refreshTokenName);
    const counted = h.sandbox.counters.snapshot();
    const lines = h.lines.length;
    vault.failWrites(true);
    let later = 0;
    const process = h.newClient({ now: () => Date.now() + later });

    const { result, polls } = await whileReading(h.store, () => startScheduledRun(h.deps(process.client)));
    const run = finishedRun(result);
    const after = await captureAll(h.store);

    expect(run).toMatchObject({
      state: 'succeeded',
      counts: { customersWritten: h.sandbox.data.customerCount, customersFailed: 0 },
    });
    const newLines = h.lines.slice(lines);
    expect(events(newLines, 'RefreshTokenPersistFailed')).toHaveLength(1);
    expect(events(newLines, 'RefreshTokenPersistFailed')[0].level).toBe('error');
    expect(
      newLines.filter((l) => l.level === 'warn' && l.line.includes('rotated Partner Center refresh token')),
    ).toHaveLength(3);
    expect(vault.versions(SECRET_NAMES.refreshTokenName)).toEqual(stored);
    expect(process.tokens.hasUnpersistedRotation).toBe(true);
    // One grant for the whole run: the rotated token lives on in memory.
    expect(
      h.sandbox.counters.snapshot().tokensIssued.refresh_token - counted.tokensIssued.refresh_token,
    ).toBe(1);
    await auditRun(h, run, { before, complete: true });
    expectWholeSnapshots(polls, before, after);

    // Hours later the stored token is past its grace period; the process still holds the rotated
    // one, and its first call after the retry interval stores it now that Key Vault takes writes.
    vault.failWrites(false);
    later = 31_000;
    h.sandbox.clock.advance(6 * 3600_000);
    const again = finishedRun(await startScheduledRun(h.deps(process.client)));
    expect(again.state).toBe('succeeded');
    expect(process.tokens.hasUnpersistedRotation).toBe(false);
    expect(vault.current(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());

    await expectNextRunCompletes(h);
  });

  test('when Key Vault refuses one rotation and takes the next one mid-run, then the newest token is stored and no write is left pending', async () => {
    await beginCase(h);
    vault.failWrites(true);
    const process = h.newClient();
    const store = afterCommits(h.store, (n) => {
      if (n !== 6) return;
      vault.failWrites(false);
      h.sandbox.clock.advance((ACCESS_TOKEN_SECONDS + 1) * 1000);
    });

    const run = finishedRun(await startScheduledRun(h.deps(process.client, { store })));

    expect(run.state).toBe('succeeded');
    expect(vault.current(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
    expect(process.tokens.hasUnpersistedRotation).toBe(false);
    await expect(process.tokens.flushRotation()).resolves.toBe(true);

    await expectNextRunCompletes(h);
  });
});
