import type { SecretStore } from './secretStore';
import { SecretNotFoundError } from './errors';

/**
 * Secrets for `npm start` and tests, seeded from local settings. A rotated refresh token is kept
 * in memory for the life of the process (the sandbox that issued it lives no longer).
 */
export class LocalSecretStore implements SecretStore {
  readonly kind = 'local' as const;
  private readonly values: Map<string, string>;

  constructor(initial: Record<string, string | undefined>) {
    this.values = new Map(Object.entries(initial).filter((e): e is [string, string] => e[1] !== undefined));
  }

  async getSecret(name: string): Promise<string> {
    const value = this.values.get(name);
    if (value === undefined) throw new SecretNotFoundError(name);
    return value;
  }

  async setSecret(name: string, value: string): Promise<void> {
    this.values.set(name, value);
  }

  async ping(): Promise<void> {
    // Always reachable; a missing secret is caught by configuration validation at startup.
  }
}
