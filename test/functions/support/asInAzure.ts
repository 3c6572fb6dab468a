import { startLocalHost, type LocalHost } from '../../../dev/localHost/host';
import { uniqueTablePrefix } from '../../support/tables';
import type { ManagedIdentityFake } from '../../support/managedIdentityFake';

export const MANAGED_IDENTITY_CLIENT_ID = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';

/**
 * Sets the environment an Azure instance would have (the platform marker, the managed identity
 * endpoint, AZURE_CLIENT_ID, Key Vault), loads the app's functions with `load`, and serves them.
 */
export async function serveAsInAzure(options: {
  identity: ManagedIdentityFake;
  vaultUrl: string;
  storageConnectionString: string;
  load: () => Promise<unknown>;
}): Promise<LocalHost> {
  Object.assign(process.env, {
    ...options.identity.env,
    WEBSITE_INSTANCE_ID: 'test-instance',
    AZURE_CLIENT_ID: MANAGED_IDENTITY_CLIENT_ID,
    KEY_VAULT_URI: options.vaultUrl,
    STORAGE_CONNECTION_STRING: options.storageConnectionString,
    TABLE_NAME_PREFIX: uniqueTablePrefix('health'),
    PARTNER_CENTER_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    PARTNER_CENTER_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
  });
  await options.load();
  return startLocalHost({ port: 0, functionKey: 'k', masterKey: 'm', timers: false, log: () => undefined });
}
