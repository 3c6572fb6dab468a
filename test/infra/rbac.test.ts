import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { PredictedResource } from './compiler';
import { REPO_ROOT, at, snapshot } from './compiler';

/**
 * Least privilege: exactly these role assignments, each with the right built-in role id, scoped to the
 * one resource it is about, as ARM would deploy them (bicep snapshot); the id named in a comment
 * wherever the source writes one down.
 */

const ROLES = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
} as const;
type RoleName = keyof typeof ROLES;

/** Roles that must never appear: nothing needs control-plane power or more data access than given. */
const FORBIDDEN: Record<string, string> = {
  'Storage Account Contributor': '17d1049b-9a84-46fb-8f53-869881c3d3ab',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Key Vault Administrator': '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Contributor: 'b24988ac-6180-42dd-933c-8b6fd8f0e5f7',
  'User Access Administrator': '18d7d88d-d35c-4fb2-a5c3-7773c5a72551',
};

interface Expected {
  role: RoleName;
  scopeType: string;
  principal: 'app identity' | 'deploying user';
}

const EXPECTED: Expected[] = [
  {
    role: 'Storage Blob Data Owner',
    scopeType: 'Microsoft.Storage/storageAccounts',
    principal: 'app identity',
  },
  {
    role: 'Storage Table Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts',
    principal: 'app identity',
  },
  {
    role: 'Key Vault Secrets Officer',
    scopeType: 'Microsoft.KeyVault/vaults',
    principal: 'app identity',
  },
  {
    role: 'Monitoring Metrics Publisher',
    scopeType: 'Microsoft.Insights/components',
    principal: 'app identity',
  },
  // The snapshot-request queue, the usage export queue and their -poison twins, and the twin of
  // the usage export's -poison queue (usageExportPoison reads it), each on its own: not the
  // account's other queues.
  ...Array.from({ length: 5 }, (): Expected => ({
    role: 'Storage Queue Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts/queueServices/queues',
    principal: 'app identity',
  })),
  // Optional, for the deploying user: set the two secrets, read the tables when debugging locally.
  {
    role: 'Storage Table Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts',
    principal: 'deploying user',
  },
  { role: 'Key Vault Secrets Officer', scopeType: 'Microsoft.KeyVault/vaults', principal: 'deploying user' },
];

// Each compiler run starts a .NET process (1-3 s alone, several times that on a loaded 2-core machine).
jest.setTimeout(120_000);

const USER = '99999999-9999-9999-9999-999999999999';
const withUser = snapshot({ principalId: USER, principalType: 'User' });
const identity = withUser.only('Microsoft.ManagedIdentity/userAssignedIdentities');
const assignments = withUser.ofType('Microsoft.Authorization/roleAssignments');
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function sourcesUnder(dir: string): { path: string; source: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(full);
    if (!entry.name.endsWith('.bicep')) return [];
    return [{ path: path.relative(REPO_ROOT, full), source: readFileSync(full, 'utf8') }];
  });
}
const SOURCES = sourcesUnder(path.join(REPO_ROOT, 'infra'));

/** The principal id of the app's identity as ARM resolves it once the identity exists. */
const appPrincipal = `[reference('${identity.id}', '${identity.apiVersion}').principalId]`;

/** The id of the resource an assignment is an extension of (its scope). */
function scopeIdOf(assignment: PredictedResource): string {
  const evaluated = /^(.+)\/providers\/Microsoft\.Authorization\/roleAssignments\/[^/]+$/.exec(assignment.id);
  if (evaluated) return evaluated[1];
  const pending = /^\[extensionResourceId\('([^']+)', 'Microsoft\.Authorization\/roleAssignments'/.exec(
    assignment.id,
  );
  if (pending) return pending[1];
  throw new Error(`cannot read the scope of ${assignment.id}`);
}

function describeAssignment(assignment: PredictedResource) {
  const roleId = /\/roleDefinitions\/([^/]+)$/.exec(
    String(at(assignment, 'properties.roleDefinitionId')),
  )?.[1];
  const role = (Object.keys(ROLES) as RoleName[]).find((name) => ROLES[name] === roleId);
  const scope = withUser.resources.find((r) => r.id === scopeIdOf(assignment));
  const principalId = at(assignment, 'properties.principalId');
  return {
    role: role ?? `unknown role ${roleId}`,
    scopeType: scope?.type ?? `no single resource (${scopeIdOf(assignment)})`,
    principal:
      principalId === appPrincipal
        ? 'app identity'
        : principalId === USER
          ? 'deploying user'
          : String(principalId),
  };
}

describe('role assignments', () => {
  test('are exactly the expected ones: role, scope resource type and principal', () => {
    const sortKey = (e: { role: string; scopeType: string; principal?: string }) =>
      `${e.principal}|${e.role}|${e.scopeType}`;
    expect(assignments.map(describeAssignment).sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      [...EXPECTED].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
  });

  test.each(
    assignments
      .map((a) => [describeAssignment(a), a] as const)
      .map(([d, a]) => [`${d.principal}: ${d.role}`, a] as const),
  )('%s uses a known built-in role definition of the subscription', (_, assignment) => {
    const id = String(at(assignment, 'properties.roleDefinitionId'));
    expect(id).toMatch(
      /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Authorization\/roleDefinitions\/[^/]+$/,
    );
    expect(Object.values(ROLES)).toContain(id.split('/').pop());
  });

  test.each(
    assignments.map((a) => [`${describeAssignment(a).principal}: ${describeAssignment(a).role}`, a] as const),
  )('%s is scoped to one resource, not the resource group or subscription', (_, assignment) => {
    const scope = withUser.resources.find((r) => r.id === scopeIdOf(assignment));
    expect(scope).toBeDefined();
    expect(scope?.type).not.toMatch(/resourceGroups|subscriptions/i);
  });

  test("each app assignment's name is unique to its scope, principal and role", () => {
    for (const assignment of assignments.filter((a) => describeAssignment(a).principal === 'app identity')) {
      const roleId = String(at(assignment, 'properties.roleDefinitionId')).split('/').pop();
      expect(assignment.name).toBe(
        `[guid('${scopeIdOf(assignment)}', ${appPrincipal.slice(1, -1)}, '${roleId}')]`,
      );
    }
  });

  test("the deploying user's assignment names are unique, and change with the principal", () => {
    const names = (deployment: typeof withUser) =>
      deployment
        .ofType('Microsoft.Authorization/roleAssignments')
        .filter((a) => !a.name.startsWith('['))
        .map((a) => a.name);
    const first = names(withUser);
    expect(first).toHaveLength(2);
    expect(new Set(first).size).toBe(first.length);
    const other = names(
      snapshot({ principalId: '88888888-8888-8888-8888-888888888888', principalType: 'User' }),
    );
    expect(other.filter((n) => first.includes(n))).toEqual([]);
  });

  test.each(
    assignments.map((a) => [`${describeAssignment(a).principal}: ${describeAssignment(a).role}`, a] as const),
  )('%s names its principal type; the app identity is a ServicePrincipal', (_, assignment) => {
    const type = at(assignment, 'properties.principalType');
    expect(type).toBe(
      describeAssignment(assignment).principal === 'app identity' ? 'ServicePrincipal' : 'User',
    );
  });

  test("the deploying user's roles are optional: only when a principal id is given, and allowed", () => {
    const count = (params: Record<string, string | boolean>) =>
      snapshot(params)
        .ofType('Microsoft.Authorization/roleAssignments')
        .filter((a) => at(a, 'properties.principalId') !== appPrincipal).length;
    expect(count({})).toBe(0);
    expect(count({ principalId: USER, allowUserIdentityPrincipal: false })).toBe(0);
    expect(count({ principalId: USER })).toBe(2);
    const ci = snapshot({ principalId: USER, principalType: 'ServicePrincipal' })
      .ofType('Microsoft.Authorization/roleAssignments')
      .filter((a) => at(a, 'properties.principalId') === USER);
    expect(ci.map((a) => at(a, 'properties.principalType'))).toEqual([
      'ServicePrincipal',
      'ServicePrincipal',
    ]);
  });

  test("the app's roles go to the identity the function app runs as, on the resources it uses", () => {
    const site = withUser.only('Microsoft.Web/sites');
    expect(Object.keys(site.identity?.userAssignedIdentities ?? {})).toEqual([identity.id]);
    const scopes = assignments
      .filter((a) => at(a, 'properties.principalId') === appPrincipal)
      .map(scopeIdOf)
      .sort();
    expect(scopes).toEqual(
      [
        withUser.only('Microsoft.Storage/storageAccounts').id,
        withUser.only('Microsoft.Storage/storageAccounts').id,
        withUser.only('Microsoft.KeyVault/vaults').id,
        withUser.only('Microsoft.Insights/components').id,
        ...withUser.ofType('Microsoft.Storage/storageAccounts/queueServices/queues').map((q) => q.id),
      ].sort(),
    );
    const settings = at(site, 'properties.siteConfig.appSettings') as { name: string; value: string }[];
    expect(settings.find((s) => s.name === 'AzureWebJobsStorage__accountName')?.value).toBe(
      withUser.only('Microsoft.Storage/storageAccounts').name,
    );
  });

  test('every role id written in the infra carries a comment naming the role', () => {
    const uncommented: string[] = [];
    for (const file of SOURCES) {
      file.source.split('\n').forEach((line, index) => {
        for (const id of line.match(GUID) ?? []) {
          const role = (Object.keys(ROLES) as RoleName[]).find((name) => ROLES[name] === id.toLowerCase());
          if (!role || !line.includes(`// ${role}`)) uncommented.push(`${file.path}:${index + 1} ${id}`);
        }
      });
    }
    expect(uncommented).toEqual([]);
  });

  test('no broad role appears anywhere', () => {
    const found: string[] = [];
    for (const file of SOURCES) {
      for (const [name, id] of Object.entries(FORBIDDEN))
        if (file.source.toLowerCase().includes(id)) found.push(`${file.path}: ${name}`);
    }
    expect(found).toEqual([]);
  });
});
