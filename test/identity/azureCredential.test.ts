import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { loadSettings, runsInAzure } from '../../src/config/settings';
import { createAzureCredential } from '../../src/identity/azureCredential';

const base = {
  PARTNER_CENTER_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  PARTNER_CENTER_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
  KEY_VAULT_URI: 'https://kv-usage-test.vault.azure.net/',
  STORAGE_TABLE_ENDPOINT: 'https://stusagetest.table.core.windows.net',
};
const CLIENT_ID = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';

describe('where the app runs', () => {
  test.each([
    [{}, false],
    [{ FUNCTIONS_WORKER_RUNTIME: 'node' }, false], // Core Tools sets this too
    [{ WEBSITE_INSTANCE_ID: 'abc123' }, true],
    [{ WEBSITE_SITE_NAME: 'func-usage-prod' }, true],
    [{ WEBSITE_INSTANCE_ID: '' }, false],
  ])('when the environment is %j, then in Azure is %s', (env, expected) => {
    expect(runsInAzure(env)).toBe(expected);
  });
});

describe('which credential', () => {
  test('when the app runs in Azure, then it signs in with ManagedIdentityCredential for AZURE_CLIENT_ID only', () => {
    const settings = loadSettings({ ...base, WEBSITE_INSTANCE_ID: 'abc123', AZURE_CLIENT_ID: CLIENT_ID });
    expect(settings.identity).toEqual({ kind: 'managedIdentity', clientId: CLIENT_ID });
    const credential = createAzureCredential(settings.identity);
    expect(credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(credential).not.toBeInstanceOf(DefaultAzureCredential);
  });

  test('when the app runs in Azure without AZURE_CLIENT_ID, then settings fail at start naming it', () => {
    expect(() => loadSettings({ ...base, WEBSITE_SITE_NAME: 'func-usage-prod' })).toThrow(
      /AZURE_CLIENT_ID is missing; expected the client id of the app's user-assigned managed identity/,
    );
  });

  test('when the app runs on a workstation, then DefaultAzureCredential (developer sign-in), with or without a client id', () => {
    const plain = loadSettings(base);
    expect(plain.identity).toEqual({ kind: 'developer', clientId: undefined });
    expect(createAzureCredential(plain.identity)).toBeInstanceOf(DefaultAzureCredential);
    const named = loadSettings({ ...base, AZURE_CLIENT_ID: CLIENT_ID });
    expect(named.identity).toEqual({ kind: 'developer', clientId: CLIENT_ID });
    expect(createAzureCredential(named.identity)).toBeInstanceOf(DefaultAzureCredential);
  });
});
