/**
 * Where the Partner Center client secret, the rotating refresh token and the continuation-token
 * signing keys live: Key Vault in Azure, local settings on a developer machine. Names are settings
 * (PARTNER_CENTER_CLIENT_SECRET_NAME, PARTNER_CENTER_REFRESH_TOKEN_NAME, CONTINUATION_TOKEN_KEY_NAME).
 */
export interface SecretStore {
  readonly kind: 'keyVault' | 'local';
  /** The current value. Throws SecretNotFoundError / SecretStoreError. */
  getSecret(name: string): Promise<string>;
  /** Stores a new value (a new version in Key Vault). */
  setSecret(name: string, value: string): Promise<void>;
  /**
   * Resolves when the store answers and the secrets can be read; for health checks. When
   * `abortSignal` aborts, the request is cancelled and its connection closed.
   */
  ping(abortSignal?: AbortSignal): Promise<void>;
}
