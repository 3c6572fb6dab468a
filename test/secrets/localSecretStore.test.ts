import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureLocalSettings } from '../../src/config/localSettings';
import { LocalSecretStore } from '../../src/secrets/localSecretStore';

const settingFor = {
  'pc-secret': 'PARTNER_CENTER_CLIENT_SECRET',
  'pc-refresh': 'PARTNER_CENTER_REFRESH_TOKEN',
};

function settingsFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-secrets-'));
  const file = path.join(dir, 'local.settings.json');
  const values = {
    PARTNER_CENTER_CLIENT_SECRET: 'secret-0',
    PARTNER_CENTER_REFRESH_TOKEN: 'refresh-0',
    OTHER: 'kept',
  };
  fs.writeFileSync(
    file,
    JSON.stringify({ IsEncrypted: false, Values: values, Host: { LocalHttpPort: 7071 } }),
  );
  return file;
}

test('when one process stores a rotated refresh token, then another reading the same settings file gets it', async () => {
  const file = settingsFile();
  const app = new LocalSecretStore({ 'pc-refresh': 'refresh-0' }, { file: { path: file, settingFor } });
  const cli = new LocalSecretStore({ 'pc-refresh': 'refresh-0' }, { file: { path: file, settingFor } });

  await app.setSecret('pc-refresh', 'refresh-1');

  expect(await cli.getSecret('pc-refresh')).toBe('refresh-1');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(json.Values).toEqual({
    PARTNER_CENTER_CLIENT_SECRET: 'secret-0',
    PARTNER_CENTER_REFRESH_TOKEN: 'refresh-1',
    OTHER: 'kept',
  });
  expect(json.Host).toEqual({ LocalHttpPort: 7071 });
  expect(fs.readdirSync(path.dirname(file))).toEqual(['local.settings.json']);
});

test('when there is no settings file, then secrets live in memory for the life of the process', async () => {
  const store = new LocalSecretStore({ 'pc-refresh': 'refresh-0' });
  await store.setSecret('pc-refresh', 'refresh-1');
  expect(await store.getSecret('pc-refresh')).toBe('refresh-1');
  await expect(store.getSecret('missing')).rejects.toMatchObject({ code: 'SecretNotFound' });
});

test('when the settings file cannot be written, then setSecret fails with a typed error that names no value', async () => {
  const file = path.join(os.tmpdir(), 'no-such-dir-for-secrets', 'local.settings.json');
  const store = new LocalSecretStore({ 'pc-refresh': 'refresh-0' }, { file: { path: file, settingFor } });
  const error = await store.setSecret('pc-refresh', 'refresh-secret-value').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'SecretStoreUnavailable' });
  expect(JSON.stringify(error) + String(error)).not.toContain('refresh-secret-value');
});

test.each([
  ['600', 0o600],
  ['640', 0o640],
])(
  'when the settings file has mode %s and a rotated token is written back, then the mode stays and no temp file is left',
  async (_, mode) => {
    const file = settingsFile();
    fs.chmodSync(file, mode);
    const store = new LocalSecretStore({}, { file: { path: file, settingFor } });

    await store.setSecret('pc-refresh', 'refresh-1');

    expect(fs.statSync(file).mode & 0o777).toBe(mode);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).Values.PARTNER_CENTER_REFRESH_TOKEN).toBe('refresh-1');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['local.settings.json']);
  },
);

test('when npm start creates local.settings.json from the sample, then only its owner can read it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-settings-new-'));
  fs.writeFileSync(path.join(root, 'local.settings.sample.json'), '{"Values":{}}', { mode: 0o644 });

  const file = ensureLocalSettings(root);

  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.readFileSync(file, 'utf8')).toBe('{"Values":{}}');
});
