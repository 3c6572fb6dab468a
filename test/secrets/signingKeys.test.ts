import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorCode } from '../../src/domain/errors';
import { KeyVaultSecretStore } from '../../src/secrets/keyVaultSecretStore';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { newSigningKey, parseSigningKeys, signingKeySource } from '../../src/secrets/signingKeys';
import { fixedTokenCredential, startKeyVaultFake } from '../support/keyVaultFake';

const NAME = 'continuation-token-key';

test('when the local settings file has no key, then one is generated once, kept there owner-only, and read back by the next process', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signing-keys-'));
  const file = path.join(dir, 'local.settings.json');
  fs.writeFileSync(file, JSON.stringify({ Values: { OTHER: 'kept' } }), { mode: 0o600 });
  const storeFor = () =>
    new LocalSecretStore({}, { file: { path: file, settingFor: { [NAME]: 'CONTINUATION_TOKEN_KEY' } } });

  const first = await signingKeySource(storeFor(), NAME)();
  const again = await signingKeySource(storeFor(), NAME)();

  expect(first.current).toHaveLength(32);
  expect(again.current.equals(first.current)).toBe(true);
  const values = JSON.parse(fs.readFileSync(file, 'utf8')).Values;
  expect(values.OTHER).toBe('kept');
  expect(Buffer.from(values.CONTINUATION_TOKEN_KEY, 'base64url').equals(first.current)).toBe(true);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
});

test('when Key Vault has no key, then the first instance creates the secret and a second instance uses the same key', async () => {
  const vault = await startKeyVaultFake();
  try {
    const store = () =>
      new KeyVaultSecretStore(vault.vaultUrl, fixedTokenCredential(), {
        cacheMs: 60_000,
        clientOptions: {
          disableChallengeResourceVerification: true,
          allowInsecureConnection: true,
          retryOptions: { maxRetries: 0 },
        },
      });
    const first = await signingKeySource(store(), NAME)();
    const second = await signingKeySource(store(), NAME)();
    expect(second.current.equals(first.current)).toBe(true);
    expect(vault.requests.filter((r) => r.startsWith(`PUT /secrets/${NAME}`))).toHaveLength(1);
  } finally {
    await vault.close();
  }
});

test('when the secret holds "new old", then new signs and both verify', () => {
  const [next, previous] = [newSigningKey(), newSigningKey()];
  const keys = parseSigningKeys(`${next} ${previous}`, NAME);
  expect(keys.current.toString('base64url')).toBe(next);
  expect(keys.accepted.map((k) => k.toString('base64url'))).toEqual([next, previous]);
});

test.each([[''], ['short'], ['not base64 !!'], [Buffer.alloc(16).toString('base64')]])(
  'when the secret holds %j, then a SecretStoreError naming the secret, never echoing the value',
  (value) => {
    let error: unknown;
    try {
      parseSigningKeys(value, NAME);
    } catch (caught) {
      error = caught;
    }
    expect(errorCode(error)).toBe('SecretStoreUnavailable');
    expect((error as Error).message).toContain(NAME);
    if (value) expect((error as Error).message).not.toContain(value);
  },
);
