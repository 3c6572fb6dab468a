import { memoryLogger } from '../../src/observability/logger';
import { SANDBOX_DEFAULTS } from '../../dev/sandbox/defaults';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';
import { withTokenFlush } from '../../src/snapshot/snapshotDependencies';
import { SECRET_NAMES, startHarness, type Harness } from '../partnerCenter/harness';

/** A secret store that refuses writes while `down` is set, as Key Vault might for a while. */
class FlakyStore extends LocalSecretStore {
  down = true;
  override async setSecret(name: string, value: string): Promise<void> {
    if (this.down) throw Object.assign(new Error('store unavailable'), { code: 'SecretStoreUnavailable' });
    await super.setSecret(name, value);
  }
}

const flakyStore = () =>
  new FlakyStore({
    [SECRET_NAMES.clientSecretName]: SANDBOX_DEFAULTS.clientSecret,
    [SECRET_NAMES.refreshTokenName]: SANDBOX_DEFAULTS.refreshToken,
  });

let h: Harness | undefined;
afterEach(() => h?.close());

test('when an invocation ends with a rotation the store refused, then the flush writes it once the store accepts', async () => {
  const store = flakyStore();
  h = await startHarness({ store });
  const harness = h;
  const root = { partnerCenterTokens: h.tokens };

  const logger = memoryLogger();
  // The invocation rotates the token; the store refuses the write, and the flush at its end too.
  await withTokenFlush(root, logger, () => harness.client.getPartnerUsageSummary());
  expect(h.tokens.hasUnpersistedRotation).toBe(true);
  expect(logger.lines.some((l) => l.includes('still unwritten'))).toBe(true);

  store.down = false;
  await withTokenFlush(root, logger, async () => undefined);
  expect(h.tokens.hasUnpersistedRotation).toBe(false);
  expect(await store.getSecret(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
});

test('when an invocation fails after a refused rotation, then the flush still runs and the failure is passed on', async () => {
  const store = flakyStore();
  h = await startHarness({ store });
  const harness = h;

  const invocation = withTokenFlush({ partnerCenterTokens: h.tokens }, memoryLogger(), async () => {
    await harness.client.getPartnerUsageSummary();
    store.down = false;
    throw new Error('run failed');
  });
  await expect(invocation).rejects.toThrow('run failed');
  expect(h.tokens.hasUnpersistedRotation).toBe(false);
  expect(await store.getSecret(SECRET_NAMES.refreshTokenName)).toBe(h.sandbox.latestRefreshToken());
});
