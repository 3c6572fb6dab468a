import { randomBytes } from 'node:crypto';
import { SecretNotFoundError, SecretStoreError } from './errors';
import type { SecretStore } from './secretStore';

/** The key new tokens are signed with, and every key a presented token may be signed with. */
export interface SigningKeys {
  current: Buffer;
  /** `current` first, then the keys still accepted during a rotation's overlap window. */
  accepted: readonly Buffer[];
}

export type SigningKeySource = () => Promise<SigningKeys>;

/** 256 bits, the HMAC-SHA256 block's worth of secret. */
export const SIGNING_KEY_BYTES = 32;

/** A fresh random key, base64url, as kept in the secret. */
export function newSigningKey(): string {
  return randomBytes(SIGNING_KEY_BYTES).toString('base64url');
}

/**
 * The secret's value: one or more base64 (or base64url) keys of at least 32 bytes, separated by
 * spaces, commas or newlines. The first signs; all verify. Rotating is writing "new old", then,
 * once tokens signed with the old key have expired, "new".
 */
export function parseSigningKeys(value: string, secretName: string): SigningKeys {
  const keys = value
    .split(/[\s,]+/)
    .filter((part) => part !== '')
    .map((part) => (/^[A-Za-z0-9+/_-]+=*$/.test(part) ? Buffer.from(part, 'base64') : Buffer.alloc(0)));
  if (keys.length === 0 || keys.some((key) => key.length < SIGNING_KEY_BYTES)) {
    // Names only: the value is a secret.
    throw new SecretStoreError(
      `Secret "${secretName}" must hold one or more base64 keys of at least ${SIGNING_KEY_BYTES} bytes`,
    );
  }
  return { current: keys[0], accepted: keys };
}

/**
 * The continuation-token signing keys, read from the secret store (Key Vault in Azure, local
 * settings or memory locally) and remembered for `cacheMs`. When the secret does not exist yet,
 * one key is generated and stored: a deployment gets its own key on first use, and a workstation
 * keeps its key in local.settings.json across restarts.
 */
export function signingKeySource(
  store: SecretStore,
  secretName: string,
  options: { cacheMs?: number; now?: () => number } = {},
): SigningKeySource {
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? Date.now;
  let cached: { keys: Promise<SigningKeys>; until: number } | undefined;

  const load = async (): Promise<SigningKeys> => {
    let value: string;
    try {
      value = await store.getSecret(secretName);
    } catch (error) {
      if (!(error instanceof SecretNotFoundError)) throw error;
      await store.setSecret(secretName, newSigningKey());
      // Two instances starting together may both create it; the last write wins in the vault, and
      // the other instance moves to it when its cached value expires (SECRET_CACHE_SECONDS), its
      // tokens of that window then answering 400. Provisioning the secret with the deployment
      // avoids the window.
      value = await store.getSecret(secretName);
    }
    return parseSigningKeys(value, secretName);
  };

  return () => {
    if (cached && now() < cached.until) return cached.keys;
    const keys = load();
    cached = { keys, until: now() + cacheMs };
    // A failed read is not remembered: the next request tries the store again.
    keys.catch(() => {
      if (cached?.keys === keys) cached = undefined;
    });
    return keys;
  };
}

/** A key held only by this process: for tests and in-process use, never for a deployment. */
export function processSigningKeys(): SigningKeySource {
  const key = randomBytes(SIGNING_KEY_BYTES);
  const keys = Promise.resolve({ current: key, accepted: [key] });
  return () => keys;
}
