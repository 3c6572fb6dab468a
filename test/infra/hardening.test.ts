import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Resource } from './bicep';
import { REPO_ROOT, exprText, get, loadInfra } from './bicep';

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

  test('no table is declared under a guessed name: the app creates its own (TABLE_NAME_PREFIX + suffix)', () => {
    expect(infra.resources('Microsoft.Storage/storageAccounts/tableServices/tables')).toEqual([]);
    expect(infra.file(storage.file).source).toMatch(/app creates them at startup/);
  });

  test('there is no queue (the app uses none)', () => {
    expect(infra.resources('Microsoft.Storage/storageAccounts/queueServices/queues')).toEqual([]);
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

  describe('the alert on failed snapshot runs and rejected refresh tokens', () => {
    const rule = only('Microsoft.Insights/scheduledQueryRules');
    const file = infra.file(rule.file);
    const criteria = get(rule.body, 'properties.criteria.allOf.0');
    const queryRef = exprText(get(criteria, 'query'));
    const query = String(queryRef ? file.variables.get(queryRef)?.value : get(criteria, 'query'));

    test.each(['SnapshotRunFailed', 'RefreshTokenRejected'])('the query looks for the event %s', (event) => {
      // The app logs these exact names; the regex extract and the list must both carry them.
      expect(query.match(new RegExp(`\\b${event}\\b`, 'g'))?.length).toBeGreaterThanOrEqual(2);
    });

    test('the query reads traces and custom events of Application Insights, which is the rule scope', () => {
      expect(query).toMatch(/^\s*traces\b|\(traces\b/m);
      expect(query).toMatch(/\bcustomEvents\b/);
      expect(get(rule.body, 'properties.scopes')).toEqual([
        expect.objectContaining({ text: 'applicationInsights.id' }),
      ]);
      const scoped = file.resources.find((r) => r.symbol === 'applicationInsights');
      expect(scoped?.type).toBe('Microsoft.Insights/components');
    });

    test('it fires on the first occurrence, separately per event name, and is enabled', () => {
      expect(get(rule.body, 'properties.enabled')).toBe(true);
      expect(get(criteria, 'timeAggregation')).toBe('Count');
      expect(get(criteria, 'operator')).toBe('GreaterThan');
      expect(get(criteria, 'threshold')).toBe(0);
      expect(get(criteria, 'dimensions.0.name')).toBe('EventName');
      expect(query).toMatch(/\bEventName\b/);
    });

    test('every event is evaluated at least once (the window covers the evaluation interval)', () => {
      const minutes = (iso: unknown) => Number(/^PT(\d+)M$/.exec(String(iso))?.[1]);
      expect(minutes(get(rule.body, 'properties.windowSize'))).toBeGreaterThanOrEqual(
        minutes(get(rule.body, 'properties.evaluationFrequency')),
      );
    });
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

  test('scales within bounds Flex Consumption accepts', () => {
    const scale = get(site.body, 'properties.functionAppConfig.scaleAndConcurrency');
    expect([2048, 4096]).toContain(
      effective(site, 'properties.functionAppConfig.scaleAndConcurrency.instanceMemoryMB'),
    );
    const max = effective(site, 'properties.functionAppConfig.scaleAndConcurrency.maximumInstanceCount');
    expect(scale).toBeDefined();
    expect(max).toBeGreaterThanOrEqual(40);
    expect(max).toBeLessThanOrEqual(1000);
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
    const apiModule = infra.file('infra/main.bicep').modules.find((m) => m.symbol === 'api');
    expect(exprText(get(apiModule?.body, 'params.enableEntraAuth'))).toBe('enableEntraAuth');
    expect(exprText(get(apiModule?.body, 'params.entraAuthClientId'))).toBe('entraAuthClientId');
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
