import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Resource } from './bicep';
import { REPO_ROOT, exprText, get, loadInfra } from './bicep';
import { at, buildMain, snapshot, snapshotFailure } from './compiler';

/** The security posture and the hosting shape the issue asks for, one property at a time. */

const infra = loadInfra();

function only(type: string, options: { existing?: boolean } = {}): Resource {
  const found = infra.resources(type).filter((r) => r.existing === (options.existing ?? false));
  expect(found.map((r) => `${r.file}:${r.line}`)).toHaveLength(1);
  return found[0];
}

/** A parameter's default when the value is a parameter reference, else the value itself. */
function effective(resource: Resource, dotted: string) {
  const value = get(resource.body, dotted);
  const text = exprText(value);
  const param = text ? infra.file(resource.file).params.get(text) : undefined;
  return param ? param.default : value;
}

describe('storage account', () => {
  const storage = only('Microsoft.Storage/storageAccounts');

  test.each([
    ['properties.allowSharedKeyAccess', false],
    ['properties.allowBlobPublicAccess', false],
    ['properties.minimumTlsVersion', 'TLS1_2'],
    ['properties.supportsHttpsTrafficOnly', true],
    ['properties.defaultToOAuthAuthentication', true],
    ['properties.allowCrossTenantReplication', false],
  ])('%s is %p', (property, expected) => {
    expect(get(storage.body, property)).toBe(expected);
  });

  test('the deployment container exists and is private', () => {
    const container = only('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(get(container.body, 'properties.publicAccess')).toBe('None');
    expect(exprText(container.body.name)).toBe('deploymentContainerName');
  });

  test('no table is deployed under a guessed name: the app creates its own (TABLE_NAME_PREFIX + suffix)', () => {
    expect(snapshot().ofType('Microsoft.Storage/storageAccounts/tableServices/tables')).toEqual([]);
    expect(infra.resources('Microsoft.Storage/storageAccounts/tableServices/tables')).toEqual([]);
  });

  test('there is no queue (the app uses none)', () => {
    expect(infra.resources('Microsoft.Storage/storageAccounts/queueServices/queues')).toEqual([]);
  });

  test('holds the history zone-redundant by default; geo-redundant SKUs are allowed, LRS only when chosen', () => {
    expect(snapshot().only('Microsoft.Storage/storageAccounts').sku).toEqual({ name: 'Standard_ZRS' });
    expect(snapshot({ storageSku: 'Standard_GZRS' }).only('Microsoft.Storage/storageAccounts').sku).toEqual({
      name: 'Standard_GZRS',
    });
    const allowed = buildMain().template.parameters.storageSku.allowedValues as string[];
    expect(allowed).toEqual(expect.arrayContaining(['Standard_ZRS', 'Standard_GZRS', 'Standard_RAGZRS']));
    // Premium and other kinds Flex Consumption host storage does not take are not offered.
    expect(allowed.filter((sku) => !/^Standard_(LRS|ZRS|GRS|RAGRS|GZRS|RAGZRS)$/.test(sku))).toEqual([]);
  });

  test('can be locked against deletion (CanNotDelete on the account); off unless asked for', () => {
    expect(snapshot().ofType('Microsoft.Authorization/locks')).toEqual([]);
    const deployed = snapshot({ enableDeleteLock: true });
    const lock = deployed.only('Microsoft.Authorization/locks');
    const account = deployed.only('Microsoft.Storage/storageAccounts');
    expect(at(lock, 'properties.level')).toBe('CanNotDelete');
    expect(lock.id.startsWith(`${account.id}/providers/Microsoft.Authorization/locks/`)).toBe(true);
  });
});

describe('Key Vault', () => {
  const vault = only('Microsoft.KeyVault/vaults');

  test.each([
    ['properties.enableRbacAuthorization', true],
    ['properties.enableSoftDelete', true],
    ['properties.enablePurgeProtection', true],
    ['properties.enabledForTemplateDeployment', false],
  ])('%s is %p', (property, expected) => {
    expect(get(vault.body, property)).toBe(expected);
  });

  test('has no access policies (RBAC only)', () => {
    expect(get(vault.body, 'properties.accessPolicies')).toBeUndefined();
  });

  test('sends its audit log (every secret read and write) to the Log Analytics workspace', () => {
    const deployed = snapshot();
    const vaultId = deployed.only('Microsoft.KeyVault/vaults').id;
    const settings = deployed
      .ofType('Microsoft.Insights/diagnosticSettings')
      .filter((d) => d.id.startsWith(`${vaultId}/providers/`));
    expect(settings).toHaveLength(1);
    expect(at(settings[0], 'properties.workspaceId')).toBe(
      deployed.only('Microsoft.OperationalInsights/workspaces').id,
    );
    const logs = at(settings[0], 'properties.logs') as {
      category?: string;
      categoryGroup?: string;
      enabled: boolean;
    }[];
    expect(logs.filter((l) => l.enabled).map((l) => l.category ?? l.categoryGroup)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(AuditEvent|audit|allLogs)$/)]),
    );
  });

  test('soft-delete retention is 7-90 days, 90 unless changed', () => {
    const days = effective(vault, 'properties.softDeleteRetentionInDays');
    expect(days).toBe(90);
    const main = infra.file('infra/main.bicep');
    expect(main.params.get('keyVaultSoftDeleteRetentionInDays')?.default).toBe(90);
    expect(main.params.get('keyVaultSoftDeleteRetentionInDays')?.decorators).toEqual(
      expect.arrayContaining([
        { name: 'minValue', args: [7] },
        { name: 'maxValue', args: [90] },
      ]),
    );
  });
});

describe('monitoring', () => {
  test('Application Insights is workspace-based with local auth off (Entra ingestion only)', () => {
    const appInsights = only('Microsoft.Insights/components');
    expect(get(appInsights.body, 'properties.DisableLocalAuth')).toBe(true);
    expect(exprText(get(appInsights.body, 'properties.WorkspaceResourceId'))).toBe('logAnalytics.id');
  });

  test('Log Analytics has local auth off', () => {
    const workspace = only('Microsoft.OperationalInsights/workspaces');
    expect(get(workspace.body, 'properties.features.disableLocalAuth')).toBe(true);
  });
});

describe('function app', () => {
  const site = only('Microsoft.Web/sites');
  const plan = only('Microsoft.Web/serverfarms');

  test('runs on the Flex Consumption plan, Linux', () => {
    expect(get(plan.body, 'sku')).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
    expect(get(plan.body, 'properties.reserved')).toBe(true);
    expect(site.body.kind).toBe('functionapp,linux');
    expect(exprText(get(site.body, 'properties.serverFarmId'))).toBe(`${plan.symbol}.id`);
  });

  test('runs Node 22', () => {
    expect(get(site.body, 'properties.functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
  });

  test("deploys from a blob container in the app's storage, authenticated by the user-assigned identity", () => {
    const storage = get(site.body, 'properties.functionAppConfig.deployment.storage');
    expect(get(storage, 'type')).toBe('blobContainer');
    expect(exprText(get(storage, 'value'))).toBe(
      "'${storage.properties.primaryEndpoints.blob}${deploymentStorageContainerName}'",
    );
    expect(get(storage, 'authentication.type')).toBe('UserAssignedIdentity');
    const main = infra.file('infra/main.bicep');
    const storageModule = main.modules.find((m) => m.symbol === 'storage');
    const apiModule = main.modules.find((m) => m.symbol === 'api');
    expect(exprText(get(storageModule?.body, 'params.deploymentContainerName'))).toBe(
      'deploymentStorageContainerName',
    );
    expect(exprText(get(apiModule?.body, 'params.deploymentStorageContainerName'))).toBe(
      'deploymentStorageContainerName',
    );
  });

  test('has only the user-assigned identity', () => {
    expect(get(site.body, 'identity.type')).toBe('UserAssigned');
    expect(Object.keys(get(site.body, 'identity.userAssignedIdentities') as object)).toEqual([
      "'${identityId}'",
    ]);
  });

  test('is HTTPS only with TLS 1.2 or higher, for the site and for SCM', () => {
    expect(get(site.body, 'properties.httpsOnly')).toBe(true);
    expect(['1.2', '1.3']).toContain(get(site.body, 'properties.siteConfig.minTlsVersion'));
    expect(['1.2', '1.3']).toContain(get(site.body, 'properties.siteConfig.scmMinTlsVersion'));
  });

  test('has FTP off, and basic-auth publishing off for FTP and SCM', () => {
    expect(get(site.body, 'properties.siteConfig.ftpsState')).toBe('Disabled');
    const policies = infra.resources('Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(
      policies.map((p) => [p.body.name, get(p.body, 'properties.allow'), p.parentSymbol]).sort(),
    ).toEqual([
      ['ftp', false, site.symbol],
      ['scm', false, site.symbol],
    ]);
  });

  test('scales within bounds Flex Consumption accepts: 1 to 1000 instances of 512, 2048 or 4096 MB', () => {
    const { parameters } = buildMain().template;
    expect(parameters.maximumInstanceCount).toMatchObject({ minValue: 1, maxValue: 1000 });
    expect(parameters.instanceMemoryMB.allowedValues).toEqual([512, 2048, 4096]);
    const scale = (params: Record<string, number>) =>
      at(snapshot(params).only('Microsoft.Web/sites'), 'properties.functionAppConfig.scaleAndConcurrency');
    // A modest default: enough for the read routes, a bound on cost and Partner Center fan-out.
    expect(scale({})).toEqual({ maximumInstanceCount: 10, instanceMemoryMB: 2048 });
    expect(scale({ maximumInstanceCount: 1, instanceMemoryMB: 512 })).toEqual({
      maximumInstanceCount: 1,
      instanceMemoryMB: 512,
    });
  });

  test('is created after its role assignments, so the host never starts without storage access', () => {
    const apiModule = infra.file('infra/main.bicep').modules.find((m) => m.symbol === 'api');
    expect(apiModule?.body.dependsOn).toEqual([expect.objectContaining({ text: 'rbac' })]);
  });

  test('host.json allows a long snapshot run (functionTimeout of at least 30 minutes)', () => {
    const host = JSON.parse(readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8')) as {
      functionTimeout?: string;
    };
    const [h, m] = String(host.functionTimeout).split(':').map(Number);
    expect(h * 60 + m).toBeGreaterThanOrEqual(30);
  });
});

describe('optional Entra ID authentication in front of the API', () => {
  const auth = infra.resources('Microsoft.Web/sites/config').find((r) => r.body.name === 'authsettingsV2');

  test('is one parameter away and off by default', () => {
    expect(auth?.condition).toBe('enableEntraAuth');
    expect(infra.file('infra/main.bicep').params.get('enableEntraAuth')?.default).toBe(false);
    // That the parameters reach the deployed config: 'Entra ID authentication as deployed' below.
  });

  test('requires a token on every path except /api/health, answering 401 otherwise', () => {
    expect(get(auth?.body, 'properties.platform.enabled')).toBe(true);
    expect(get(auth?.body, 'properties.globalValidation.requireAuthentication')).toBe(true);
    expect(get(auth?.body, 'properties.globalValidation.unauthenticatedClientAction')).toBe('Return401');
    expect(get(auth?.body, 'properties.globalValidation.excludedPaths')).toEqual(['/api/health']);
  });

  test('validates tokens issued for the API app registration', () => {
    const aad = get(auth?.body, 'properties.identityProviders.azureActiveDirectory');
    expect(get(aad, 'enabled')).toBe(true);
    expect(exprText(get(aad, 'registration.clientId'))).toBe('entraAuthClientId');
    expect(get(aad, 'validation.allowedAudiences')).toEqual([
      expect.objectContaining({ text: "'api://${entraAuthClientId}'" }),
      expect.objectContaining({ text: 'entraAuthClientId' }),
    ]);
  });
});

describe('Entra ID authentication as deployed', () => {
  const CLIENT_ID = '55555555-5555-5555-5555-555555555555';
  const PORTAL_A = '66666666-6666-6666-6666-666666666666';
  const PORTAL_B = '77777777-7777-7777-7777-777777777777';

  test('is not deployed unless enabled', () => {
    expect(snapshot().ofType('Microsoft.Web/sites/config')).toEqual([]);
  });

  test('lets in only the named calling applications (allowedApplications), for the API audience', () => {
    const auth = snapshot({
      enableEntraAuth: true,
      entraAuthClientId: CLIENT_ID,
      entraAuthAllowedClientIds: ` ${PORTAL_A}, ${PORTAL_B} ,`,
    }).only('Microsoft.Web/sites/config');
    const aad = at(auth, 'properties.identityProviders.azureActiveDirectory');
    expect(at(aad, 'registration.clientId')).toBe(CLIENT_ID);
    expect(at(aad, 'validation.allowedAudiences')).toEqual([`api://${CLIENT_ID}`, CLIENT_ID]);
    expect(at(aad, 'validation.defaultAuthorizationPolicy.allowedApplications')).toEqual([
      PORTAL_A,
      PORTAL_B,
    ]);
    expect(at(auth, 'properties.globalValidation.requireAuthentication')).toBe(true);
  });

  test('fails the deployment at validation when enabled without a client id', () => {
    expect(snapshotFailure({ enableEntraAuth: true, entraAuthAllowedClientIds: PORTAL_A })).toMatch(
      /enableEntraAuth is true but entraAuthClientId is empty: set ENTRA_AUTH_CLIENT_ID/,
    );
  });

  test('fails the deployment at validation when enabled without any allowed calling application', () => {
    expect(
      snapshotFailure({
        enableEntraAuth: true,
        entraAuthClientId: CLIENT_ID,
        entraAuthAllowedClientIds: ' , ',
      }),
    ).toMatch(
      /enableEntraAuth is true but entraAuthAllowedClientIds is empty: set ENTRA_AUTH_ALLOWED_CLIENT_IDS/,
    );
  });
});
