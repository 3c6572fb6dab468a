import { inspect } from 'node:util';
import { memoryLogger } from '../../src/observability/logger';
import { SANDBOX_DEFAULTS } from '../../dev/sandbox';
import { fixedTokenCredential, startKeyVaultFake, type KeyVaultFake } from '../support/keyVaultFake';
import { KeyVaultSecretStore } from '../../src/secrets/keyVaultSecretStore';
import { collect, rejectionOf, SECRET_NAMES, startHarness, type Harness } from './harness';

describe('Partner Center client: no secret leaks', () => {
  let h: Harness;
  let vault: KeyVaultFake;

  beforeAll(async () => {
    vault = await startKeyVaultFake();
  });
  afterAll(async () => {
    await h.close();
    await vault.close();
  });

  test('when a run fails every way it can, then no log line or thrown error holds the client secret or a token', async () => {
    vault.seed(SECRET_NAMES.clientSecretName, SANDBOX_DEFAULTS.clientSecret);
    vault.seed(SECRET_NAMES.refreshTokenName, SANDBOX_DEFAULTS.refreshToken);
    const store = new KeyVaultSecretStore(vault.vaultUrl, fixedTokenCredential(), {
      cacheMs: 60_000,
      clientOptions: {
        disableChallengeResourceVerification: true,
        allowInsecureConnection: true,
        retryOptions: { maxRetries: 0 },
      },
    });
    const memory = memoryLogger();
    h = await startHarness({
      store,
      settings: { maxRetries: 1 },
      sandbox: { customers: 4, pageSize: 2, now: '2026-03-15T12:00:00Z' },
      onLog: ({ level, line }) => memory[level](line),
    });
    const errors: unknown[] = [];

    // Rotation whose write fails (warnings carrying the store's error).
    vault.failWrites(true);
    await collect(h.client.listCustomerUsageRecords());
    // A non-retryable HTTP error, then retried 5xx and malformed bodies.
    errors.push(await rejectionOf(h.client.getCustomerUsageSummary('ffffffff-0000-4000-8000-000000000000')));
    h.sandbox.faults.set({ status500: 1 });
    errors.push(await rejectionOf(h.client.getPartnerUsageSummary()));
    h.sandbox.faults.set({ status500: 0, malformed: 1 });
    errors.push(await rejectionOf(h.client.getPartnerUsageSummary()));
    h.sandbox.faults.clear();
    // The access token expires, the refresh token is revoked: 401, then invalid_grant.
    h.sandbox.revokeRefreshToken(h.sandbox.latestRefreshToken());
    h.sandbox.clock.advance(2 * 3600_000);
    errors.push(await rejectionOf(collect(h.client.listCustomerUsageRecords())));
    errors.push(await rejectionOf(h.client.getPartnerUsageSummary()));

    const secrets = secretsOnTheWire(h);
    expect(secrets.accessTokens.size).toBeGreaterThanOrEqual(1);
    expect(secrets.refreshTokens.size).toBeGreaterThanOrEqual(2);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
      'PartnerCenterHttp',
      'PartnerCenterHttp',
      'ResponseShape',
      'ReconsentRequired',
      'ReconsentRequired',
    ]);
    expect(h.lines.some((l) => l.line.startsWith('event=RefreshTokenPersistFailed'))).toBe(true);

    const { leaked, output } = leaks(secrets, memory.lines, errors);
    // Names the kind of secret only, so a failure does not print the secret itself.
    expect(leaked).toEqual([]);
    expect(output).not.toMatch(/authorization/i);
    expect(memory.lines.length).toBeGreaterThan(10);
  });

  test('when the Azure-plan and budget calls fail every way they can, then no log line or thrown error holds a secret', async () => {
    const memory = memoryLogger();
    const own = await startHarness({
      settings: { maxRetries: 1 },
      sandbox: { customers: 20, pageSizes: { meterUsageRecords: 1 }, now: '2026-03-15T12:00:00Z' },
      onLog: ({ level, line }) => memory[level](line),
    });
    try {
      const customers = [...own.sandbox.data.customers()];
      const plan = customers.find((c) => c.kind === 'azurePlan' && c.subscriptions.length > 0);
      const legacy = customers.find((c) => c.kind === 'legacy' && c.subscriptions.length > 0);
      if (!plan || !legacy) throw new Error('the tenant lacks a plan or a legacy subscription');
      const planId = plan.subscriptions[0].id;
      const errors: unknown[] = [];

      await collect(own.client.listMeterUsageRecords(plan.id, planId));
      await own.client.setUsageBudget(plan.id, '10');
      errors.push(
        await rejectionOf(collect(own.client.listAzureEntitlements(legacy.id, legacy.subscriptions[0].id))),
      );
      errors.push(await rejectionOf(own.client.setUsageBudget(plan.id, 'Bearer abc')));
      own.sandbox.faults.set({ status500: 1 });
      errors.push(await rejectionOf(own.client.setUsageBudget(plan.id, '11')));
      own.sandbox.faults.set({ status500: 0, malformed: 1 });
      errors.push(await rejectionOf(collect(own.client.listPlanResourceUsageRecords(plan.id, planId))));
      own.sandbox.faults.clear();
      own.sandbox.revokeRefreshToken(own.sandbox.latestRefreshToken());
      own.sandbox.clock.advance(2 * 3600_000);
      errors.push(await rejectionOf(own.client.getUsageBudget(plan.id)));

      expect(errors.map((e) => (e as { code?: string }).code)).toEqual([
        'PartnerCenterHttp',
        'InvalidBudgetAmount',
        'PartnerCenterHttp',
        'ResponseShape',
        'ReconsentRequired',
      ]);
      const secrets = secretsOnTheWire(own);
      expect(secrets.accessTokens.size).toBeGreaterThanOrEqual(1);
      const { leaked, output } = leaks(secrets, memory.lines, errors);
      expect(leaked).toEqual([]);
      expect(output).not.toMatch(/authorization/i);
      expect(memory.lines.some((line) => line.includes('PATCH /v1/customers/'))).toBe(true);
    } finally {
      await own.close();
    }
  });
});

/** The kinds of secret found in the log lines or in any rendering of the errors, and that text. */
function leaks(secrets: ReturnType<typeof secretsOnTheWire>, lines: string[], errors: unknown[]) {
  const output = [
    ...lines,
    ...errors.flatMap((e) => [
      JSON.stringify(e),
      inspect(e, { depth: Infinity, showHidden: true }),
      String(e),
      (e as Error).stack ?? '',
    ]),
  ].join('\n');
  const leaked = [
    ['client secret', [SANDBOX_DEFAULTS.clientSecret]],
    ['refresh token', [...secrets.refreshTokens]],
    ['access token', [...secrets.accessTokens]],
  ].filter(([, values]) => (values as string[]).some((value) => output.includes(value)));
  return { leaked: leaked.map(([kind]) => kind as string), output };
}

/** Every client secret, refresh and access token that crossed the wire, from both directions. */
function secretsOnTheWire(h: Harness) {
  const refreshTokens = new Set<string>([SANDBOX_DEFAULTS.refreshToken]);
  const accessTokens = new Set<string>();
  for (const exchange of h.exchanges) {
    const bearer = /^Bearer (.+)$/.exec(exchange.headers.Authorization ?? '');
    if (bearer) accessTokens.add(bearer[1]);
    if (exchange.body) {
      const form = new URLSearchParams(exchange.body);
      const sent = form.get('refresh_token');
      if (sent) refreshTokens.add(sent);
    }
    if (exchange.responseText) {
      const answer = JSON.parse(exchange.responseText) as { access_token?: string; refresh_token?: string };
      if (answer.access_token) accessTokens.add(answer.access_token);
      if (answer.refresh_token) refreshTokens.add(answer.refresh_token);
    }
  }
  return { refreshTokens, accessTokens };
}
