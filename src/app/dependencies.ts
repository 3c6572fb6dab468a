import type { TokenCredential } from '@azure/identity';
import { getSettings, type Settings } from '../config/settings';
import { createAzureCredential } from '../identity/azureCredential';
import { registerSecret } from '../observability/redact';
import { LocalSecretStore } from '../secrets/localSecretStore';
import type { SecretStore } from '../secrets/secretStore';
import { createTableClients, type TableClients } from '../storage/tableClients';

/**
 * The composition root: every SDK client and adapter is built here, once per process, on first
 * use. Triggers in src/functions ask for what they need; the logic they call takes it as
 * parameters and never reaches for this module itself.
 */
export interface Dependencies {
  settings: Settings;
  tables: TableClients;
  secretStore: SecretStore;
}

let instance: Dependencies | undefined;
let credential: TokenCredential | undefined;

export function azureCredential(settings: Settings): TokenCredential {
  credential ??= createAzureCredential(settings.managedIdentityClientId);
  return credential;
}

export function dependencies(): Dependencies {
  if (instance) return instance;
  const settings = getSettings();
  registerSecret(settings.secrets.localClientSecret);
  registerSecret(settings.secrets.localRefreshToken);
  instance = {
    settings,
    tables: createTableClients(settings.storage, () => azureCredential(settings)),
    secretStore: createSecretStore(settings),
  };
  return instance;
}

function createSecretStore(settings: Settings): SecretStore {
  if (settings.secrets.keyVaultUri) {
    // Filled in by the Key Vault adapter (issue 4).
    throw new Error('Key Vault secret store is not wired yet');
  }
  return new LocalSecretStore({
    [settings.secrets.clientSecretName]: settings.secrets.localClientSecret,
    [settings.secrets.refreshTokenName]: settings.secrets.localRefreshToken,
  });
}

/** Tests that change settings between cases start from a clean root. */
export function resetDependencies(): void {
  instance = undefined;
  credential = undefined;
}
