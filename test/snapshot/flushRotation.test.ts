import { memoryLogger } from '../../src/observability/logger';
import { SANDBOX_DEFAULTS } from '../../src/sandbox/defaults';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { flushTokenRotation } from '../../src/snapshot/snapshotDependencies';
import { SECRET_NAMES, startHarness, type Harness } from '../partnerCenter/harness';

/** A secret store that refuses writes while `down` is set, as Key Vault might for a while. */
class FlakyStore extends LocalSecretStore {
  down = true;
  override async setSecret(name: string, value: string): Promise<void> {
    if (this.down) throw Object.assign(new Error('store unavailable'), { code: 'SecretStoreUnavailable' });
    await super.setSecret(name, value);
  }
}

let h: Harness | undefined;
afterEach(() => h?.close());

test('when an invocation ends with a rotation the store refused, then the flush writes it once the store accepts', async () => {
  const store = new FlakyStore({
    [SECRET_NAMES.clientSecretName]: SANDBOX_DEFAULTS.clientSecret,
    [SECRET_NAMES.refreshTokenName]: SANDBOX_DEFAULTS.refreshToken,
  });
  h = await startHarness({ store });

  await h.client.getPartnerUsageSummary(); // rotates; the write is refused
  expect(h.tokens.hasUnpersistedRotation).toBe(true);

  const logger = memoryLogger();
  await flushTokenRotation({ partnerCenterTokens: h.tokens }, logger);
  expect(logger.lines.some((l) => l.includes('still unwritten'))).toBe(true);

  store.down = false;
  await flushTokenRotation({ partnerCenterTokens: h.tokens }, logger);
  expect(h.tokens.hasUnpersistedRotation).toBe(false);
  expect(await store.getSecret(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
});
