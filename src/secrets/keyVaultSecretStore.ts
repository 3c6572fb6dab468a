import type { TokenCredential } from '@azure/identity';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { registerSecret } from '../observability/redact';
import { SecretNotFoundError, SecretStoreError } from './errors';
import type { SecretStore } from './secretStore';

export interface KeyVaultSecretStoreOptions {
  /** How long a value read is served from memory (SECRET_CACHE_SECONDS). */
  cacheMs: number;
  /** Secret read by `ping`; the client secret is the natural choice (it always exists). */
  pingSecretName?: string;
  /** Passed to the SDK's SecretClient (tests: a loopback vault needs allowInsecureConnection). */
  clientOptions?: SecretClientOptions;
  now?: () => number;
}

interface CacheEntry {
  value: string;
  expiresAt: number;
}

/**
 * Secrets in Azure Key Vault, read with the app's Azure credential (managed identity in Azure,
 * developer credentials locally; the identity needs "Key Vault Secrets Officer" to write the
 * rotated refresh token). Values are cached for `cacheMs` so a snapshot run does not read the
 * vault per request; a write replaces the cached value. Errors carry names and statuses, never
 * values or the SDK's request.
 */
export class KeyVaultSecretStore implements SecretStore {
  readonly kind = 'keyVault' as const;
  private readonly client: SecretClient;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly reads = new Map<string, Promise<string>>();
  private readonly now: () => number;

  constructor(
    readonly vaultUrl: string,
    credential: TokenCredential,
    private readonly options: KeyVaultSecretStoreOptions,
  ) {
    this.client = new SecretClient(vaultUrl, credential, options.clientOptions);
    this.now = options.now ?? Date.now;
  }

  async getSecret(name: string): Promise<string> {
    const cached = this.cache.get(name);
    if (cached && this.now() < cached.expiresAt) return cached.value;
    // Concurrent readers of one name share a request.
    let read = this.reads.get(name);
    if (!read) {
      read = this.read(name).finally(() => this.reads.delete(name));
      this.reads.set(name, read);
    }
    return read;
  }

  async setSecret(name: string, value: string): Promise<void> {
    registerSecret(value);
    this.cache.delete(name);
    try {
      await this.client.setSecret(name, value, { contentType: 'text/plain' });
    } catch (error) {
      throw toStoreError(error, name, 'write');
    }
    this.cache.set(name, { value, expiresAt: this.now() + this.options.cacheMs });
  }

  async ping(abortSignal?: AbortSignal): Promise<void> {
    const name = this.options.pingSecretName;
    if (!name) {
      throw new SecretStoreError('The Key Vault secret store has no pingSecretName configured');
    }
    // Straight to the vault: a health check must not be answered from the cache.
    await this.read(name, abortSignal);
  }

  private async read(name: string, abortSignal?: AbortSignal): Promise<string> {
    let value: string | undefined;
    try {
      value = (await this.client.getSecret(name, { abortSignal })).value;
    } catch (error) {
      throw toStoreError(error, name, 'read');
    }
    if (value === undefined) throw new SecretNotFoundError(name);
    registerSecret(value);
    this.cache.set(name, { value, expiresAt: this.now() + this.options.cacheMs });
    return value;
  }
}

/** A new error from the SDK error's status and code only: its request and response stay behind. */
function toStoreError(error: unknown, name: string, operation: 'read' | 'write'): Error {
  const { statusCode, code } = (typeof error === 'object' && error !== null ? error : {}) as {
    statusCode?: unknown;
    code?: unknown;
  };
  const status = typeof statusCode === 'number' ? statusCode : undefined;
  if (status === 404 || code === 'SecretNotFound') return new SecretNotFoundError(name);
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.name : 'unknown error';
  return new SecretStoreError(
    `Key Vault ${operation} of secret "${name}" failed${status !== undefined ? ` with ${status}` : ''} (${reason})`,
    status,
  );
}
