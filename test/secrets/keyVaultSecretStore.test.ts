import { inspect } from 'node:util';
import { errorCode } from '../../src/domain/errors';
import { SecretNotFoundError, SecretStoreError } from '../../src/secrets/errors';
import { KeyVaultSecretStore } from '../../src/secrets/keyVaultSecretStore';
import { fixedTokenCredential, startKeyVaultFake, type KeyVaultFake } from '../support/keyVaultFake';

// The real @azure/keyvault-secrets SDK against a loopback vault. Over plain http the SDK needs
// two options: no TLS check of the challenge resource (the fake is not *.vault.azure.net) and
// allowInsecureConnection.
const clientOptions = {
  disableChallengeResourceVerification: true,
  allowInsecureConnection: true,
  retryOptions: { maxRetries: 0 },
};

describe('KeyVaultSecretStore', () => {
  let vault: KeyVaultFake;

  beforeEach(async () => {
    vault = await startKeyVaultFake();
  });
  afterEach(async () => {
    await vault.close();
  });

  const storeWith = (cacheMs = 60_000, now?: () => number) =>
    new KeyVaultSecretStore(vault.vaultUrl, fixedTokenCredential(), {
      cacheMs,
      clientOptions,
      pingSecretName: 'partner-center-client-secret',
      now,
    });

  test('when the vault never answers and ping is aborted, then ping rejects and its connection is closed', async () => {
    vault.neverAnswer(true);
    const ping = storeWith().ping(AbortSignal.timeout(200));
    await expect(ping).rejects.toBeInstanceOf(SecretStoreError);
    expect(vault.connectionsAccepted()).toBe(1);
    const deadline = Date.now() + 2_000;
    while (vault.openConnections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(vault.openConnections()).toBe(0);
  });

  test('when a secret exists, then getSecret answers its value after the challenge handshake', async () => {
    vault.seed('partner-center-client-secret', 'client-secret-value-1');
    const credential = fixedTokenCredential();
    const store = new KeyVaultSecretStore(vault.vaultUrl, credential, { cacheMs: 1000, clientOptions });

    await expect(store.getSecret('partner-center-client-secret')).resolves.toBe('client-secret-value-1');

    expect(vault.challenges()).toBe(1);
    expect(vault.authorizations).toEqual(['Bearer fake-vault-access-token-0123456789']);
    expect(credential.calls[0]).toEqual({
      scopes: ['https://vault.azure.net/.default'],
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    });
  });

  test('when a secret is read twice within cacheMs, then the vault is asked once', async () => {
    vault.seed('partner-center-refresh-token', 'refresh-token-value-1');
    let now = 1_000_000;
    const store = storeWith(5_000, () => now);

    await store.getSecret('partner-center-refresh-token');
    await store.getSecret('partner-center-refresh-token');
    const gets = () => vault.requests.filter((r) => r === 'GET /secrets/partner-center-refresh-token').length;
    // One challenge round trip plus one authenticated GET.
    expect(gets()).toBe(2);

    vault.seed('partner-center-refresh-token', 'refresh-token-value-2');
    now += 5_001;
    await expect(store.getSecret('partner-center-refresh-token')).resolves.toBe('refresh-token-value-2');
    expect(gets()).toBe(3);
  });

  test('when a secret is set, then it becomes a new version and the next read answers it from cache', async () => {
    vault.seed('partner-center-refresh-token', 'refresh-token-value-1');
    const store = storeWith();
    await store.getSecret('partner-center-refresh-token');

    await store.setSecret('partner-center-refresh-token', 'refresh-token-value-2');

    expect(vault.versions('partner-center-refresh-token')).toEqual([
      'refresh-token-value-1',
      'refresh-token-value-2',
    ]);
    const requestsBefore = vault.requests.length;
    await expect(store.getSecret('partner-center-refresh-token')).resolves.toBe('refresh-token-value-2');
    expect(vault.requests.length).toBe(requestsBefore);
  });

  test('when a secret does not exist, then SecretNotFoundError names it', async () => {
    const store = storeWith();

    const error = await store.getSecret('missing-secret').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(errorCode(error)).toBe('SecretNotFound');
    expect((error as SecretNotFoundError).secretName).toBe('missing-secret');
  });

  test('when the vault refuses a write, then SecretStoreError carries the status and not the value', async () => {
    vault.failWrites(true);
    const store = storeWith();

    const error = await store
      .setSecret('partner-center-refresh-token', 'never-shown-value-123')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretStoreError);
    expect(errorCode(error)).toBe('SecretStoreUnavailable');
    expect((error as SecretStoreError).status).toBe(503);
    const serialised = `${JSON.stringify(error)} ${inspect(error, { depth: 10 })} ${(error as Error).message}`;
    expect(serialised).not.toContain('never-shown-value-123');
    expect(serialised).not.toContain('fake-vault-access-token');
  });

  test('when the ping secret is readable, then ping resolves; when it is missing, then it rejects', async () => {
    const store = storeWith();
    await expect(store.ping()).rejects.toBeInstanceOf(SecretNotFoundError);

    vault.seed('partner-center-client-secret', 'client-secret-value-1');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  test('when the vault is unreachable, then SecretStoreError says so without a status', async () => {
    const unreachable = new KeyVaultSecretStore('http://127.0.0.1:1', fixedTokenCredential(), {
      cacheMs: 1000,
      clientOptions,
    });

    const error = await unreachable.getSecret('partner-center-client-secret').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SecretStoreError);
    expect((error as SecretStoreError).status).toBeUndefined();
    expect((error as Error).message).toContain('partner-center-client-secret');
  });
});
