import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PACKAGE_DIR } from '../../bench/support/deployPackage';
import { REPO_ROOT, exprText, get, loadInfra } from './bicep';

/** What `azd up` relies on: azure.yaml, the parameter file, the outputs, the service tag. */

const infra = loadInfra();
const main = infra.file('infra/main.bicep');
const azureYaml = parse(readFileSync(path.join(REPO_ROOT, 'azure.yaml'), 'utf8')) as AzureYaml;
const parameters = JSON.parse(readFileSync(path.join(REPO_ROOT, 'infra/main.parameters.json'), 'utf8')) as {
  parameters: Record<string, { value: string }>;
};

interface Hook {
  shell: string;
  run: string;
  continueOnError?: boolean;
}
/** The part of azd's azure.yaml schema this project uses. */
interface AzureYaml {
  infra: { provider: string; path: string; module: string };
  services: Record<
    string,
    {
      project: string;
      dist?: string;
      language: string;
      host: string;
      remoteBuild?: boolean;
      hooks?: Record<string, { posix?: Hook; windows?: Hook }>;
    }
  >;
}

const api = azureYaml.services.api;

describe('azure.yaml', () => {
  test('declares the only service: the repository root, JavaScript, hosted as a function app', () => {
    expect(Object.keys(azureYaml.services)).toEqual(['api']);
    expect(api).toMatchObject({ project: '.', language: 'js', host: 'function' });
  });

  test('deploys the staged package as built: dist is what `npm run package` writes, no remote build', () => {
    expect(api.dist).toBe(path.relative(REPO_ROOT, PACKAGE_DIR));
    // Without this azd lets Oryx run `npm install` in Azure (its default for JavaScript), and
    // what runs there would no longer be the package the suite loaded.
    expect(api.remoteBuild).toBe(false);
  });

  test('stages the package before packaging, on both shells, failing the deploy when it fails', () => {
    const prepackage = api.hooks?.prepackage;
    expect(prepackage?.posix).toEqual({ shell: 'sh', run: 'npm run package', continueOnError: false });
    expect(prepackage?.windows).toEqual({ shell: 'pwsh', run: 'npm run package', continueOnError: false });
    const scripts = (
      JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts.package).toBe('node scripts/package.js');
  });

  test('points at the Bicep in infra/', () => {
    expect(azureYaml.infra).toEqual({ provider: 'bicep', path: 'infra', module: 'main' });
    expect(existsSync(path.join(REPO_ROOT, 'infra/main.bicep'))).toBe(true);
  });

  test('the function app carries the azd-service-name tag azd deploys to', () => {
    const api = infra.file('infra/app/api.bicep');
    const site = api.resources.find((r) => r.type === 'Microsoft.Web/sites');
    expect(exprText(site?.body.tags)).toMatch(/^union\(tags, \{\s*'azd-service-name': serviceName\s*\}\)$/);
    expect(api.params.get('serviceName')?.default).toBe('api');
    expect(get(main.modules.find((m) => m.symbol === 'api')?.body, 'params.serviceName')).toBeUndefined();
  });
});

describe('main.parameters.json', () => {
  test('feeds every main.bicep parameter without a default from an azd variable', () => {
    const required = [...main.params.values()].filter((p) => !('default' in p)).map((p) => p.name);
    expect(required.filter((name) => !(name in parameters.parameters))).toEqual([]);
  });

  test.each([
    ['environmentName', 'AZURE_ENV_NAME'],
    ['location', 'AZURE_LOCATION'],
    ['principalId', 'AZURE_PRINCIPAL_ID'],
    ['partnerCenterTenantId', 'PARTNER_CENTER_TENANT_ID'],
    ['partnerCenterClientId', 'PARTNER_CENTER_CLIENT_ID'],
  ])('%s comes from ${%s}', (param, variable) => {
    expect(parameters.parameters[param]?.value).toBe(`\${${variable}}`);
  });

  test('every ${VAR=fallback} falls back to exactly the Bicep default', () => {
    const withFallback = Object.entries(parameters.parameters).filter(([, p]) => /=/.test(p.value));
    expect(withFallback.map(([name]) => name)).toEqual(
      expect.arrayContaining(['enableEntraAuth', 'snapshotSchedule', 'partnerCenterBaseUrl']),
    );
    for (const [name, { value }] of withFallback) {
      const fallback = /^\$\{\w+=(.*)\}$/.exec(value)?.[1];
      const bicepDefault = main.params.get(name)?.default;
      expect(`${name}: ${fallback}`).toBe(
        `${name}: ${typeof bicepDefault === 'string' ? bicepDefault : JSON.stringify(bicepDefault)}`,
      );
    }
  });

  test('the Partner Center ids must be GUID-length, so an unset variable fails the deployment early', () => {
    for (const name of ['partnerCenterTenantId', 'partnerCenterClientId']) {
      expect(main.params.get(name)?.decorators).toEqual(
        expect.arrayContaining([
          { name: 'minLength', args: [36] },
          { name: 'maxLength', args: [36] },
        ]),
      );
    }
  });

  test('location is picked by azd as a location', () => {
    const metadata = main.params.get('location')?.decorators.find((d) => d.name === 'metadata');
    expect(get(metadata?.args[0], 'azd.type')).toBe('location');
  });
});

describe('outputs azd and the deploy guide read', () => {
  test.each([
    'AZURE_LOCATION',
    'AZURE_TENANT_ID',
    'AZURE_RESOURCE_GROUP',
    'SERVICE_API_NAME',
    'SERVICE_API_URI',
    'AZURE_FUNCTION_APP_NAME',
    'AZURE_KEY_VAULT_NAME',
    'AZURE_KEY_VAULT_URI',
    'AZURE_STORAGE_ACCOUNT_NAME',
    'APPLICATIONINSIGHTS_NAME',
    'PARTNER_CENTER_CLIENT_SECRET_NAME',
    'PARTNER_CENTER_REFRESH_TOKEN_NAME',
  ])('%s is an output of main.bicep', (name) => {
    expect(main.outputs.get(name)?.type).toBe('string');
  });

  test('every output the README deploy section uses exists', () => {
    const guide = path.join(REPO_ROOT, 'README.md');
    const text = readFileSync(guide, 'utf8');
    const used = [...text.matchAll(/azd env get-value (\w+)/g)].map((m) => m[1]);
    const setByHand = new Set([...text.matchAll(/azd env set (\w+)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(0);
    expect([...new Set(used)].filter((name) => !main.outputs.has(name) && !setByHand.has(name))).toEqual([]);
  });
});
