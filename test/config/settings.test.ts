import { ConfigurationError, loadSettings, SETTINGS } from '../../src/config/settings';
import sample from '../../local.settings.sample.json';

const valid = {
  PARTNER_CENTER_TENANT_ID: '11111111-2222-4333-8444-555555555555',
  PARTNER_CENTER_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
  PARTNER_CENTER_CLIENT_SECRET: 'secret-value-1',
  PARTNER_CENTER_REFRESH_TOKEN: 'refresh-value-1',
  STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).problems.map((p) => `${p.name} ${p.problem}`);
  }
  return [];
}

describe('loadSettings', () => {
  test('when only required settings are given, then defaults fill the rest', () => {
    const settings = loadSettings(valid);
    expect(settings.partnerCenter.baseUrl).toBe('https://api.partnercenter.microsoft.com');
    expect(settings.snapshot.schedule).toBe('0 0 */6 * * *');
    expect(settings.retention.days).toBe(400);
    expect(settings.storage).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
      tablePrefix: 'usage',
      requestTimeoutMs: 45_000,
    });
  });

  test('when several settings are wrong, then one error names each of them and what it expects', () => {
    const env = {
      ...valid,
      PARTNER_CENTER_TENANT_ID: 'not-a-guid',
      SNAPSHOT_SCHEDULE: '0 */6 * * *',
      RETENTION_DAYS: '-3',
    };
    delete (env as Record<string, string>).PARTNER_CENTER_CLIENT_ID;
    expect(problemsOf(env)).toEqual([
      'PARTNER_CENTER_TENANT_ID is not a GUID',
      'PARTNER_CENTER_CLIENT_ID is missing',
      'SNAPSHOT_SCHEDULE is not a six-field NCRONTAB expression',
      'RETENTION_DAYS is not a whole number 1-36500',
    ]);
    try {
      loadSettings(env);
    } catch (error) {
      expect((error as Error).message).toContain('PARTNER_CENTER_TENANT_ID is not a GUID; expected a GUID');
    }
  });

  test('when Partner Center is reached over http://, then only loopback hosts are accepted', () => {
    expect(problemsOf({ ...valid, PARTNER_CENTER_BASE_URL: 'http://127.0.0.1:7072' })).toEqual([]);
    expect(problemsOf({ ...valid, PARTNER_CENTER_AUTHORITY_HOST: 'http://localhost:9' })).toEqual([]);
    expect(
      problemsOf({ ...valid, PARTNER_CENTER_BASE_URL: 'http://api.partnercenter.microsoft.com' }),
    ).toEqual(['PARTNER_CENTER_BASE_URL uses http:// for a host that is not loopback']);
  });

  test('when both or neither storage forms are set, then that is an error', () => {
    expect(problemsOf({ ...valid, STORAGE_TABLE_ENDPOINT: 'https://a.table.core.windows.net' })).toEqual([
      'STORAGE_CONNECTION_STRING / STORAGE_TABLE_ENDPOINT are both set',
    ]);
    const neither: Record<string, string> = { ...valid };
    delete neither.STORAGE_CONNECTION_STRING;
    expect(problemsOf(neither)).toEqual([
      'STORAGE_CONNECTION_STRING / STORAGE_TABLE_ENDPOINT are both missing',
    ]);
  });

  test('when Key Vault is configured, then local secrets are not required; without it they are', () => {
    const env: Record<string, string> = { ...valid, KEY_VAULT_URI: 'https://kv.vault.azure.net/' };
    delete env.PARTNER_CENTER_CLIENT_SECRET;
    delete env.PARTNER_CENTER_REFRESH_TOKEN;
    expect(problemsOf(env)).toEqual([]);
    delete env.KEY_VAULT_URI;
    expect(problemsOf(env)).toEqual([
      'PARTNER_CENTER_CLIENT_SECRET is missing',
      'PARTNER_CENTER_REFRESH_TOKEN is missing',
    ]);
  });

  test('when a setting is malformed, then the error never echoes its value', () => {
    const message = problemsOf({ ...valid, PARTNER_CENTER_BASE_URL: 'ftp://secret-host-name' }).join();
    expect(message).not.toContain('secret-host-name');
  });

  test('local.settings.sample.json lists every setting and is valid as it stands', () => {
    const values = sample.Values as Record<string, string>;
    for (const spec of SETTINGS) expect(Object.keys(values)).toContain(spec.name);
    expect(() => loadSettings(values)).not.toThrow();
  });
});
