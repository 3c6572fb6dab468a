import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PredictedResource } from './compiler';
import { REPO_ROOT, TENANT_ID, at, buildMain, snapshot, snapshotFailure } from './compiler';

/**
 * The security posture and the hosting shape the issue asks for, one property at a time, on the
 * resources ARM would deploy (bicep snapshot over main.bicep, parameters at their defaults unless a
 * test says otherwise).
 */

// Each compiler run starts a .NET process (1-3 s alone, several times that on a loaded 2-core machine).
jest.setTimeout(120_000);

const deployed = snapshot();
const only = (type: string): PredictedResource => deployed.only(type);
/** The id of a resource a child or extension resource belongs to. */
const isUnder = (child: PredictedResource, parent: PredictedResource): boolean =>
  child.id.startsWith(`${parent.id}/`);

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
    expect(at(storage, property)).toBe(expected);
  });

  test('the deployment container exists in this account and is private', () => {
    const container = only('Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(isUnder(container, storage)).toBe(true);
    expect(at(container, 'properties.publicAccess')).toBe('None');
  });

  test('no table is deployed under a guessed name: the app creates its own (TABLE_NAME_PREFIX + suffix)', () => {
    expect(deployed.ofType('Microsoft.Storage/storageAccounts/tableServices/tables')).toEqual([]);
  });

  test("holds exactly the queues the app's queue triggers read, each with its -poison twin", () => {
    const names = deployed
      .ofType('Microsoft.Storage/storageAccounts/queueServices/queues')
      .map((q) => q.name.split('/').pop())
      .sort();
    expect(names).toEqual([
      'snapshot-requests',
      'snapshot-requests-poison',
      'usage-export',
      'usage-export-poison',
      // usageExportPoison reads usage-export-poison, so that queue has its own twin.
      'usage-export-poison-poison',
    ]);
    const renamed = snapshot({ snapshotRequestQueueName: 'runs-asked', usageExportQueueName: 'usage-work' })
      .ofType('Microsoft.Storage/storageAccounts/queueServices/queues')
      .map((q) => q.name.split('/').pop())
      .sort();
    expect(renamed).toEqual([
      'runs-asked',
      'runs-asked-poison',
      'usage-work',
      'usage-work-poison',
      'usage-work-poison-poison',
    ]);
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
    expect(at(vault, property)).toBe(expected);
  });

  test('has no access policies (RBAC only)', () => {
    expect(at(vault, 'properties.accessPolicies')).toBeUndefined();
  });

  test('no secret is deployed (the operator sets the values; a template would overwrite the rotated token)', () => {
    expect(deployed.ofType('Microsoft.KeyVault/vaults/secrets')).toEqual([]);
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
    expect(at(vault, 'properties.softDeleteRetentionInDays')).toBe(90);
    expect(buildMain().template.parameters.keyVaultSoftDeleteRetentionInDays).toMatchObject({
      defaultValue: 90,
      minValue: 7,
      maxValue: 90,
    });
    expect(
      at(
        snapshot({ keyVaultSoftDeleteRetentionInDays: 7 }).only('Microsoft.KeyVault/vaults'),
        'properties.softDeleteRetentionInDays',
      ),
    ).toBe(7);
  });
});

describe('monitoring', () => {
  test('Application Insights is workspace-based with local auth off (Entra ingestion only)', () => {
    const appInsights = only('Microsoft.Insights/components');
    expect(at(appInsights, 'properties.DisableLocalAuth')).toBe(true);
    expect(at(appInsights, 'properties.WorkspaceResourceId')).toBe(
      only('Microsoft.OperationalInsights/workspaces').id,
    );
  });

  test('Log Analytics has local auth off', () => {
    expect(at(only('Microsoft.OperationalInsights/workspaces'), 'properties.features.disableLocalAuth')).toBe(
      true,
    );
  });
});

describe('function app', () => {
  const site = only('Microsoft.Web/sites');
  const plan = only('Microsoft.Web/serverfarms');

  test('runs on the Flex Consumption plan, Linux', () => {
    expect(plan.sku).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
    expect(at(plan, 'properties.reserved')).toBe(true);
    expect(site.kind).toBe('functionapp,linux');
    expect(at(site, 'properties.serverFarmId')).toBe(plan.id);
  });

  test('runs Node 22', () => {
    expect(at(site, 'properties.functionAppConfig.runtime')).toEqual({ name: 'node', version: '22' });
  });

  test("deploys from a blob container in the app's storage, authenticated by the user-assigned identity", () => {
    const storage = at(site, 'properties.functionAppConfig.deployment.storage');
    const account = only('Microsoft.Storage/storageAccounts');
    const container = only('Microsoft.Storage/storageAccounts/blobServices/containers');
    const containerName = container.name.split('/').pop() as string;
    expect(at(storage, 'type')).toBe('blobContainer');
    // The blob endpoint is known only once the account exists; the rest is evaluated here.
    expect(String(at(storage, 'value'))).toBe(
      `[format('{0}{1}', reference('${account.id}', '${account.apiVersion}').primaryEndpoints.blob, '${containerName}')]`,
    );
    expect(at(storage, 'authentication')).toEqual({
      type: 'UserAssignedIdentity',
      userAssignedIdentityResourceId: only('Microsoft.ManagedIdentity/userAssignedIdentities').id,
    });
  });

  test('has only the user-assigned identity', () => {
    expect(site.identity?.type).toBe('UserAssigned');
    expect(Object.keys(site.identity?.userAssignedIdentities ?? {})).toEqual([
      only('Microsoft.ManagedIdentity/userAssignedIdentities').id,
    ]);
  });

  test('is HTTPS only with TLS 1.2 or higher, for the site and for SCM', () => {
    expect(at(site, 'properties.httpsOnly')).toBe(true);
    expect(['1.2', '1.3']).toContain(at(site, 'properties.siteConfig.minTlsVersion'));
    expect(['1.2', '1.3']).toContain(at(site, 'properties.siteConfig.scmMinTlsVersion'));
  });

  test('has FTP off, and basic-auth publishing off for FTP and SCM', () => {
    expect(at(site, 'properties.siteConfig.ftpsState')).toBe('Disabled');
    const policies = deployed.ofType('Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(
      policies.map((p) => [p.name.split('/').pop(), at(p, 'properties.allow'), isUnder(p, site)]).sort(),
    ).toEqual([
      ['ftp', false, true],
      ['scm', false, true],
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
    const resources = buildMain().template.resources as { name: string; dependsOn?: string[] }[];
    const api = resources.find((r) => r.name === 'api');
    expect(api?.dependsOn?.some((d) => /'Microsoft\.Resources\/deployments', 'rbac'\)\]$/.test(d))).toBe(
      true,
    );
  });

  test('host.json allows a long snapshot run (functionTimeout of at least 30 minutes)', () => {
    const host = JSON.parse(readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8')) as {
      functionTimeout?: string;
    };
    const [h, m] = String(host.functionTimeout).split(':').map(Number);
    expect(h * 60 + m).toBeGreaterThanOrEqual(30);
  });
});

describe('Entra ID authentication as deployed', () => {
  const CLIENT_ID = '55555555-5555-5555-5555-555555555555';
  const PORTAL_A = '66666666-6666-6666-6666-666666666666';
  const PORTAL_B = '77777777-7777-7777-7777-777777777777';

  const enabled = () =>
    snapshot({
      enableEntraAuth: true,
      entraAuthClientId: CLIENT_ID,
      entraAuthAllowedClientIds: ` ${PORTAL_A}, ${PORTAL_B} ,`,
    });

  test('is one parameter away, off by default: then no authentication config is deployed', () => {
    expect(buildMain().template.parameters.enableEntraAuth).toMatchObject({
      type: 'bool',
      defaultValue: false,
    });
    expect(snapshot().ofType('Microsoft.Web/sites/config')).toEqual([]);
  });

  test('when on, sits in front of the function app and requires a token on every path except /api/health, answering 401', () => {
    const auth = enabled().only('Microsoft.Web/sites/config');
    expect(auth.name).toBe(`${enabled().only('Microsoft.Web/sites').name}/authsettingsV2`);
    expect(at(auth, 'properties.platform.enabled')).toBe(true);
    expect(at(auth, 'properties.globalValidation')).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
      excludedPaths: ['/api/health'],
    });
    expect(at(auth, 'properties.identityProviders.azureActiveDirectory.enabled')).toBe(true);
    // The deployment tenant's v2 issuer, on the login endpoint of whichever cloud ARM runs in.
    expect(at(auth, 'properties.identityProviders.azureActiveDirectory.registration.openIdIssuer')).toBe(
      `[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, '${TENANT_ID}')]`,
    );
  });

  test('lets in only the named calling applications (allowedApplications), for the API audience', () => {
    const auth = enabled().only('Microsoft.Web/sites/config');
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
