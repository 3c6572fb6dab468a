import { errorCode } from '../../src/domain/errors';
import { RefreshTokenProvider } from '../../src/partnerCenter/auth';
import { ReconsentRequiredError } from '../../src/partnerCenter/errors';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { KeyVaultSecretStore } from '../../src/secrets/keyVaultSecretStore';
import { fixedTokenCredential, startKeyVaultFake, type KeyVaultFake } from '../support/keyVaultFake';
import { collect, rejectionOf, SECRET_NAMES, settingsFor, startHarness, type Harness } from './harness';

const TOKEN_ROUTE = 'POST /{tenant}/oauth2/v2.0/token';
const HOUR = 3600_000;
// Mid-month, so moving the sandbox clock by hours never crosses into another billing period.
const NOW = '2026-03-15T12:00:00Z';

describe('Partner Center client: authentication', () => {
  let h: Harness | undefined;
  let vault: KeyVaultFake | undefined;

  afterEach(async () => {
    await h?.close();
    await vault?.close();
    h = undefined;
    vault = undefined;
  });

  test('when many calls start at once, then they share one token refresh', async () => {
    h = await startHarness();
    const client = h.client;

    await Promise.all(Array.from({ length: 10 }, () => client.getPartnerUsageSummary()));

    expect(h.sandbox.counters.snapshot().tokensIssued.refresh_token).toBe(1);
  });

  test('when the access token expires mid-run, then the 401 triggers one refresh and the run continues', async () => {
    h = await startHarness({ sandbox: { customers: 6, pageSize: 2, now: NOW } });
    const customers = h.client
      .listCustomerUsageRecords({ correlationId: 'run-expiry' })
      [Symbol.asyncIterator]();
    await customers.next();
    const before = h.sandbox.counters.snapshot();
    expect(before.tokensIssued.refresh_token).toBe(1);

    // Past the token's hour on the sandbox clock; the client's own clock still thinks it valid.
    h.sandbox.clock.advance(2 * HOUR);
    const client = h.client;
    await Promise.all(Array.from({ length: 4 }, () => client.getPartnerUsageSummary()));
    let remaining = 0;
    while (!(await customers.next()).done) remaining++;

    const after = h.sandbox.counters.snapshot();
    expect(remaining).toBe(5);
    expect(after.tokensIssued.refresh_token).toBe(2);
    const unauthorized = Object.values(after.requests).reduce(
      (sum, byStatus) => sum + (byStatus['401'] ?? 0),
      0,
    );
    expect(unauthorized).toBeGreaterThanOrEqual(1);
    expect(unauthorized).toBeLessThanOrEqual(4);
  });

  test('when Entra rotates the refresh token, then the new one is written to the secret store', async () => {
    h = await startHarness();

    await h.client.getPartnerUsageSummary();

    const stored = await h.store.getSecret(SECRET_NAMES.refreshTokenName);
    expect(stored).toBe(h.sandbox.latestRefreshToken());
    expect(stored).not.toBe(h.sandbox.credentials.refreshToken);
    expect(h.lines.some((l) => l.line.startsWith('event=RefreshTokenRotated'))).toBe(true);
  });

  test('when another instance rotated the refresh token, then this one refreshes with the stored token, not the one it remembers', async () => {
    h = await startHarness({ sandbox: { now: NOW, freezeClock: true } });
    // A second instance of the app (Flex Consumption scales out) sharing the same secret store.
    const other = new RefreshTokenProvider({
      settings: settingsFor(h.sandbox),
      secretStore: h.store,
      secretNames: SECRET_NAMES,
      logger: h.logger,
      persistDelayMs: 5,
    });
    // Rotates: the other instance now remembers the refresh token it stored.
    const first = await other.getAccessToken();
    h.sandbox.clock.advance(2 * HOUR);
    await h.client.getPartnerUsageSummary(); // this instance rotates again from the stored token
    h.sandbox.clock.advance(2 * HOUR); // past the grace of the token the other instance remembers
    other.invalidate(first); // as a 401 from Partner Center would: its access token has lapsed

    const second = await other.getAccessToken();
    expect(second).toMatch(/^sandbox\.at\./);
    expect(second).not.toBe(first);
    expect(await h.store.getSecret(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
  });

  test('when Entra rotates the refresh token, then Key Vault gets it as a new version', async () => {
    vault = await startKeyVaultFake();
    const kv = vault;
    const sandboxHarness = await startHarness({
      store: await keyVaultStoreSeededFrom(kv),
    });
    h = sandboxHarness;

    await h.client.getPartnerUsageSummary();

    expect(kv.versions(SECRET_NAMES.refreshTokenName)).toEqual([
      h.sandbox.credentials.refreshToken,
      h.sandbox.latestRefreshToken(),
    ]);
  });

  test('when Key Vault refuses the rotated token, then the client keeps it in memory, warns, and writes it later', async () => {
    vault = await startKeyVaultFake();
    const kv = vault;
    h = await startHarness({
      store: await keyVaultStoreSeededFrom(kv),
      sandbox: { refreshGraceSeconds: 60, now: NOW },
    });
    kv.failWrites(true);

    await h.client.getPartnerUsageSummary();

    expect(h.tokens.hasUnpersistedRotation).toBe(true);
    expect(kv.versions(SECRET_NAMES.refreshTokenName)).toEqual([h.sandbox.credentials.refreshToken]);
    expect(
      h.lines.filter((l) => l.level === 'warn' && l.line.includes('rotated Partner Center refresh token')),
    ).toHaveLength(3);
    expect(h.lines.some((l) => l.line.startsWith('event=RefreshTokenPersistFailed'))).toBe(true);

    // Hours later the stored token is past its grace period; the one in memory still works.
    h.sandbox.clock.advance(2 * HOUR);
    await expect(h.client.getPartnerUsageSummary()).resolves.toBeDefined();
    expect(h.sandbox.counters.snapshot().tokensIssued.refresh_token).toBe(2);

    kv.failWrites(false);
    await expect(h.tokens.flushRotation()).resolves.toBe(true);
    expect(kv.current(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
    expect(h.tokens.hasUnpersistedRotation).toBe(false);
  });

  test('when Entra answers invalid_grant, then the run stops at once with ReconsentRequired and no retry storm', async () => {
    h = await startHarness({ sandbox: { customers: 6, pageSize: 2 } });
    h.sandbox.revokeRefreshToken(h.sandbox.credentials.refreshToken);

    const first = await rejectionOf(collect(h.client.listCustomerUsageRecords()));
    const again = await Promise.all(
      Array.from({ length: 5 }, () => rejectionOf(h?.client.getPartnerUsageSummary() ?? Promise.resolve())),
    );

    expect(first).toBeInstanceOf(ReconsentRequiredError);
    expect(errorCode(first)).toBe('ReconsentRequired');
    expect((first as ReconsentRequiredError).aadstsCode).toBe(50173);
    expect((first as Error).message).toMatch(/consent to the app again/);
    expect((first as Error).message).toContain(SECRET_NAMES.refreshTokenName);
    for (const error of again) expect(errorCode(error)).toBe('ReconsentRequired');
    const counters = h.sandbox.counters.snapshot();
    expect(counters.requests[TOKEN_ROUTE]).toEqual({ '400': 1 });
    expect(counters.requests['GET /v1/customers/usagerecords']).toBeUndefined();
    expect(h.lines.filter((l) => l.line.startsWith('event=RefreshTokenRejected'))).toHaveLength(1);
    expect(h.lines.find((l) => l.line.startsWith('event=RefreshTokenRejected'))?.level).toBe('error');
  });

  test('when a new refresh token is stored after re-consent, then the client recovers without a restart', async () => {
    h = await startHarness({ sandbox: { now: NOW } });
    await h.client.getPartnerUsageSummary();
    // Stands in for a partner user consenting again: another refresh token the sandbox accepts.
    const consented = new LocalSecretStore({
      [SECRET_NAMES.clientSecretName]: h.sandbox.credentials.clientSecret,
      [SECRET_NAMES.refreshTokenName]: h.sandbox.credentials.refreshToken,
    });
    await new RefreshTokenProvider({
      settings: settingsFor(h.sandbox),
      secretStore: consented,
      secretNames: SECRET_NAMES,
      logger: h.logger,
    }).getAccessToken();
    const fresh = await consented.getSecret(SECRET_NAMES.refreshTokenName);

    h.sandbox.revokeRefreshToken(await h.store.getSecret(SECRET_NAMES.refreshTokenName));
    h.sandbox.clock.advance(2 * HOUR);
    const rejected = await rejectionOf(h.client.getPartnerUsageSummary());
    const latched = await rejectionOf(h.client.getPartnerUsageSummary());
    const tokenRequests = h.sandbox.counters.snapshot().requests[TOKEN_ROUTE];

    expect(errorCode(rejected)).toBe('ReconsentRequired');
    expect(latched).toBe(rejected);
    expect(tokenRequests).toEqual({ '200': 2, '400': 1 });

    await h.store.setSecret(SECRET_NAMES.refreshTokenName, fresh);
    await expect(h.client.getPartnerUsageSummary()).resolves.toBeDefined();
  });
});

async function keyVaultStoreSeededFrom(vault: KeyVaultFake): Promise<KeyVaultSecretStore> {
  const { SANDBOX_DEFAULTS } = await import('../../dev/sandbox');
  vault.seed(SECRET_NAMES.clientSecretName, SANDBOX_DEFAULTS.clientSecret);
  vault.seed(SECRET_NAMES.refreshTokenName, SANDBOX_DEFAULTS.refreshToken);
  return new KeyVaultSecretStore(vault.vaultUrl, fixedTokenCredential(), {
    cacheMs: 60_000,
    clientOptions: {
      disableChallengeResourceVerification: true,
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    },
  });
}
