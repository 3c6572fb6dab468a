import fs from 'node:fs';
import path from 'node:path';
import { writeLocalSettings } from '../config/localSettings';
import type { SecretStore } from './secretStore';
import { SecretNotFoundError, SecretStoreError } from './errors';

/**
 * Where local secrets are kept durably: local.settings.json, under the setting each secret name
 * maps to (e.g. partner-center-refresh-token → PARTNER_CENTER_REFRESH_TOKEN).
 */
export interface LocalSecretsFile {
  path: string;
  settingFor: Record<string, string>;
}

/**
 * Secrets for `npm start`, `npm run snapshot` and tests, seeded from local settings. With a file,
 * it plays Key Vault's part on a workstation: a rotated refresh token is written back to
 * local.settings.json and read from there on every get, so the app, the CLI and the next
 * `npm start` all use the newest token rather than one the sandbox (or Entra) has since retired.
 */
export class LocalSecretStore implements SecretStore {
  readonly kind = 'local' as const;
  private readonly values: Map<string, string>;

  constructor(
    initial: Record<string, string | undefined>,
    private readonly options: { file?: LocalSecretsFile } = {},
  ) {
    this.values = new Map(Object.entries(initial).filter((e): e is [string, string] => e[1] !== undefined));
  }

  async getSecret(name: string): Promise<string> {
    const value = this.fromFile(name) ?? this.values.get(name);
    if (value === undefined) throw new SecretNotFoundError(name);
    return value;
  }

  async setSecret(name: string, value: string): Promise<void> {
    this.values.set(name, value);
    const setting = this.options.file?.settingFor[name];
    if (!this.options.file || !setting) return;
    const file = this.options.file.path;
    try {
      const json = readJson(file);
      json.Values = { ...(json.Values ?? {}), [setting]: value };
      writeLocalSettings(file, json);
    } catch (error) {
      throw new SecretStoreError(`Could not write secret "${name}" to ${path.basename(file)}`, undefined, {
        cause: (error as Error).name,
      });
    }
  }

  async ping(): Promise<void> {
    // Always reachable; a missing secret is caught by configuration validation at startup.
  }

  private fromFile(name: string): string | undefined {
    const setting = this.options.file?.settingFor[name];
    if (!this.options.file || !setting) return undefined;
    try {
      const value = readJson(this.options.file.path).Values?.[setting];
      return typeof value === 'string' && value !== '' ? value : undefined;
    } catch {
      return undefined;
    }
  }
}

function readJson(file: string): { Values?: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { Values?: Record<string, unknown> };
}
