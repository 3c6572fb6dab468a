import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { HOST_SETTINGS, SETTINGS } from '../../src/config/settings';
import type { Resource, Value } from './bicep';
import { exprText, get, loadInfra, traceParam } from './bicep';
import type * as FunctionsCoreModule from '../../dev/localHost/functionsCore';

type FunctionsCore = typeof FunctionsCoreModule;

/**
 * The function app's app settings against src/config/settings.ts: everything the code needs in Azure is
 * set, nothing is set that neither the code nor the Functions host reads, and every default agrees.
 */

const infra = loadInfra();
const api = infra.file('infra/app/api.bicep');

function functionApp(): Resource {
  const sites = api.resources.filter((r) => r.type === 'Microsoft.Web/sites' && !r.existing);
  expect(sites).toHaveLength(1);
  return sites[0];
}

/** name → value of siteConfig.appSettings, failing on anything that is not a literal list of pairs. */
function appSettings(): Map<string, Value> {
  const list = get(functionApp().body, 'properties.siteConfig.appSettings');
  if (!Array.isArray(list))
    throw new Error('siteConfig.appSettings must be a literal array the tests can read');
  const settings = new Map<string, Value>();
  for (const entry of list) {
    const name = get(entry, 'name');
    if (typeof name !== 'string') throw new Error(`app setting name is not a literal: ${String(name)}`);
    if (settings.has(name)) throw new Error(`${name} is set twice`);
    settings.set(name, get(entry, 'value') as Value);
  }
  return settings;
}

const settings = appSettings();
const names = [...settings.keys()];
const specs = new Map(SETTINGS.map((s) => [s.name, s]));

/** Settings whose value comes from a main.bicep parameter, traced to the default that applies. */
function origins(name: string) {
  const text = exprText(settings.get(name));
  if (!text || !api.params.has(text)) return [];
  return traceParam(infra, api, text);
}

describe('app settings of the function app', () => {
  test('every setting the code requires (no default, not optional) is set', () => {
    const required = SETTINGS.filter((s) => s.default === undefined && !s.optional).map((s) => s.name);
    expect(required).toEqual(
      expect.arrayContaining(['PARTNER_CENTER_TENANT_ID', 'PARTNER_CENTER_CLIENT_ID']),
    );
    expect(required.filter((n) => !settings.has(n))).toEqual([]);
  });

  test.each([
    'STORAGE_TABLE_ENDPOINT',
    'KEY_VAULT_URI',
    'AZURE_CLIENT_ID',
    'SNAPSHOT_SCHEDULE',
    'PARTNER_CENTER_BASE_URL',
    'PARTNER_CENTER_AUTHORITY_HOST',
    'PARTNER_CENTER_CLIENT_SECRET_NAME',
    'PARTNER_CENTER_REFRESH_TOKEN_NAME',
  ])('%s, which the app needs in Azure, is set', (name) => {
    expect(specs.has(name)).toBe(true);
    expect(settings.has(name)).toBe(true);
  });

  test('every %SETTING% a registered timer schedule names is set (the host resolves it from app settings only)', () => {
    // The app's own registrations, as the Functions host would index them.
    let referenced: string[] = [];
    let registered = 0;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const core = require('../../dev/localHost/functionsCore') as FunctionsCore;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../src/index');
      registered = core.registeredFunctions().length;
      referenced = core
        .registeredFunctions()
        .map((fn) => String(core.triggerOf(fn).schedule ?? ''))
        .flatMap((schedule) => [...schedule.matchAll(/%([^%]+)%/g)].map((m) => m[1]));
    });
    expect(registered).toBeGreaterThan(0);
    expect(referenced.filter((name) => !settings.has(name))).toEqual([]);
    for (const name of ['SNAPSHOT_SCHEDULE', 'SNAPSHOT_RESUME_SCHEDULE', 'RETENTION_SCHEDULE']) {
      expect(settings.has(name)).toBe(true);
    }
  });

  test('no setting is set that neither settings.ts nor the Functions host reads', () => {
    const known = new Set<string>([...specs.keys(), ...HOST_SETTINGS]);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
  });

  test('no local-only setting (local secrets, connection strings) is set in Azure', () => {
    const localOnly = SETTINGS.filter((s) => s.localOnly).map((s) => s.name);
    expect(localOnly).toEqual(
      expect.arrayContaining(['STORAGE_CONNECTION_STRING', 'PARTNER_CENTER_REFRESH_TOKEN']),
    );
    expect(names.filter((n) => localOnly.includes(n))).toEqual([]);
  });

  test('host storage is identity-based: account name, managed identity, the identity client id; no connection string', () => {
    expect(settings.has('AzureWebJobsStorage')).toBe(false);
    expect(exprText(settings.get('AzureWebJobsStorage__accountName'))).toMatch(/^\w+\.name$/);
    expect(settings.get('AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect(exprText(settings.get('AzureWebJobsStorage__clientId'))).toBe('identityClientId');
    expect(exprText(settings.get('AZURE_CLIENT_ID'))).toBe('identityClientId');
  });

  test('the client id is the user-assigned identity the app runs as', () => {
    const module = infra.file('infra/main.bicep').modules.find((m) => m.source === './app/api.bicep');
    const identityModule = infra.file('infra/main.bicep').modules.find((m) => m.symbol === 'identity');
    expect(exprText(get(module?.body, 'params.identityClientId'))).toBe('identity.outputs.clientId');
    expect(exprText(get(module?.body, 'params.identityId'))).toBe('identity.outputs.id');
    expect(identityModule?.source).toBe('./core/identity/user-assigned-identity.bicep');
    expect(
      exprText(
        get(
          functionApp().body,
          'properties.functionAppConfig.deployment.storage.authentication.userAssignedIdentityResourceId',
        ),
      ),
    ).toBe('identityId');
  });

  test('Application Insights uses Entra ingestion: connection string plus ClientId=<identity>;Authorization=AAD', () => {
    expect(exprText(settings.get('APPLICATIONINSIGHTS_CONNECTION_STRING'))).toMatch(
      /\.properties\.ConnectionString$/,
    );
    expect(exprText(settings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING'))).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
  });

  test('the usage tables are reached by endpoint, not by connection string', () => {
    expect(exprText(settings.get('STORAGE_TABLE_ENDPOINT'))).toMatch(
      /\.properties\.primaryEndpoints\.table$/,
    );
    expect(exprText(settings.get('KEY_VAULT_URI'))).toBe('keyVaultUri');
    const module = infra.file('infra/main.bicep').modules.find((m) => m.source === './app/api.bicep');
    expect(exprText(get(module?.body, 'params.keyVaultUri'))).toBe('keyVault.outputs.uri');
  });

  test('Flex Consumption settings the plan rejects are not set (the runtime comes from functionAppConfig)', () => {
    expect(
      names.filter((n) => ['FUNCTIONS_WORKER_RUNTIME', 'FUNCTIONS_EXTENSION_VERSION'].includes(n)),
    ).toEqual([]);
  });

  test('every literal value passes the validation settings.ts applies at startup', () => {
    const invalid = names
      .filter((n) => specs.has(n) && typeof settings.get(n) === 'string')
      .map((n) => [n, specs.get(n)?.validate(settings.get(n) as string)])
      .filter(([, problem]) => problem !== undefined);
    expect(invalid).toEqual([]);
  });

  test.each(names.filter((n) => specs.get(n)?.default !== undefined).map((n) => [n] as const))(
    "%s comes from a parameter whose default is the code's default",
    (name) => {
      const found = origins(name);
      expect(found.length).toBeGreaterThan(0);
      for (const origin of found) {
        // App settings are strings; an int parameter reaches them through string().
        const value = typeof origin.default === 'number' ? String(origin.default) : origin.default;
        expect(`${origin.file}:${origin.param} = ${JSON.stringify(value)}`).toBe(
          `${origin.file}:${origin.param} = ${JSON.stringify(specs.get(name)?.default)}`,
        );
      }
    },
  );

  test.each(['PARTNER_CENTER_TENANT_ID', 'PARTNER_CENTER_CLIENT_ID'])(
    '%s comes from a main.bicep parameter without a default, fed by azd',
    (name) => {
      const found = origins(name);
      expect(found).toHaveLength(1);
      expect(found[0].file).toBe('infra/main.bicep');
      expect('default' in found[0]).toBe(false);
    },
  );

  test('parameter defaults that feed settings pass their validation', () => {
    const invalid: string[] = [];
    for (const name of names.filter((n) => specs.has(n))) {
      for (const origin of origins(name)) {
        if (typeof origin.default !== 'string') continue;
        const problem = specs.get(name)?.validate(origin.default);
        if (problem) invalid.push(`${name} default ${problem}`);
      }
    }
    expect(invalid).toEqual([]);
  });

  test('app settings are set in this one list: no sites/config appsettings resource adds others', () => {
    const extra = infra
      .resources('Microsoft.Web/sites/config')
      .filter((r) => r.body.name !== 'authsettingsV2')
      .map((r) => `${r.file}:${r.line} ${String(r.body.name)}`);
    expect(extra).toEqual([]);
  });
});

describe('NODE_OPTIONS: the worker heap the usage export bench measured', () => {
  test('is read from infra/app/node-options.txt, the file the usageExport bench starts its workers with', () => {
    expect(exprText(settings.get('NODE_OPTIONS'))).toBe("trim(loadTextContent('node-options.txt'))");
  });

  test('Node accepts the options in NODE_OPTIONS and bounds the heap with them', () => {
    const options = readFileSync('infra/app/node-options.txt', 'utf8').trim();
    const oldSpaceMiB = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    expect(oldSpaceMiB).toBeGreaterThan(0);
    const limitMiB = Number(
      execFileSync(
        process.execPath,
        ['-e', "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit / 2 ** 20))"],
        { env: { ...process.env, NODE_OPTIONS: options }, encoding: 'utf8' },
      ),
    );
    // The limit is old space plus the young generation: bounded, and far below Node's default here.
    expect(limitMiB).toBeGreaterThanOrEqual(oldSpaceMiB);
    expect(limitMiB).toBeLessThan(oldSpaceMiB + 64);
  });
});
