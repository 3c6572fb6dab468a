import type { BicepFile, Resource, Value } from './bicep';
import { exprText, get, loadInfra } from './bicep';

/**
 * Least privilege: exactly these role assignments, each with the right built-in role id, scoped to the
 * one resource it is about, the id named in a comment where it is written down.
 */

const ROLES = {
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
} as const;
type RoleName = keyof typeof ROLES;

/** Roles that must never appear: no queues are used, and nothing needs control-plane power. */
const FORBIDDEN: Record<string, string> = {
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
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
  principal: 'managedIdentityPrincipalId' | 'userPrincipalId';
}

const EXPECTED: Expected[] = [
  {
    role: 'Storage Blob Data Owner',
    scopeType: 'Microsoft.Storage/storageAccounts',
    principal: 'managedIdentityPrincipalId',
  },
  {
    role: 'Storage Table Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts',
    principal: 'managedIdentityPrincipalId',
  },
  {
    role: 'Key Vault Secrets Officer',
    scopeType: 'Microsoft.KeyVault/vaults',
    principal: 'managedIdentityPrincipalId',
  },
  {
    role: 'Monitoring Metrics Publisher',
    scopeType: 'Microsoft.Insights/components',
    principal: 'managedIdentityPrincipalId',
  },
  // Optional, for the deploying user: set the two secrets, read the tables when debugging locally.
  {
    role: 'Storage Table Data Contributor',
    scopeType: 'Microsoft.Storage/storageAccounts',
    principal: 'userPrincipalId',
  },
  { role: 'Key Vault Secrets Officer', scopeType: 'Microsoft.KeyVault/vaults', principal: 'userPrincipalId' },
];

const infra = loadInfra();
const assignments = infra.resources('Microsoft.Authorization/roleAssignments');
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The role GUID an assignment uses, following a variable if the id is held in one. */
function roleIdOf(file: BicepFile, assignment: Resource): string | undefined {
  const text = exprText(get(assignment.body, 'properties.roleDefinitionId')) ?? '';
  const call = /^subscriptionResourceId\(\s*'Microsoft\.Authorization\/roleDefinitions'\s*,\s*(.+)\)$/.exec(
    text,
  );
  if (!call) return undefined;
  const arg = call[1].trim();
  if (/^'[^']*'$/.test(arg)) return arg.slice(1, -1);
  const held: Value | undefined = file.variables.get(arg)?.value;
  return typeof held === 'string' ? held : undefined;
}

/** The resource an assignment's `scope:` names, when it names one declared in the same file. */
function scopeOf(file: BicepFile, assignment: Resource): Resource | undefined {
  const text = exprText(assignment.body.scope);
  return file.resources.find((r) => r.symbol === text);
}

function describeAssignment(assignment: Resource) {
  const file = infra.file(assignment.file);
  const roleId = roleIdOf(file, assignment);
  const role = (Object.keys(ROLES) as RoleName[]).find((name) => ROLES[name] === roleId);
  return {
    at: `${assignment.file}:${assignment.line} ${assignment.symbol}`,
    role: role ?? `unknown role ${roleId}`,
    scopeType: scopeOf(file, assignment)?.type ?? `no single resource (${String(assignment.body.scope)})`,
    principal: exprText(get(assignment.body, 'properties.principalId')),
  };
}

describe('role assignments', () => {
  test('are exactly the expected ones: role, scope resource type and principal', () => {
    const actual = assignments
      .map(describeAssignment)
      .map(({ role, scopeType, principal }) => ({ role, scopeType, principal }));
    const sortKey = (e: { role: string; scopeType: string; principal?: string }) =>
      `${e.principal}|${e.role}|${e.scopeType}`;
    expect(actual.sort((a, b) => sortKey(a).localeCompare(sortKey(b)))).toEqual(
      [...EXPECTED].sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    );
  });

  test.each(assignments.map((a) => [`${a.file}:${a.line} ${a.symbol}`, a] as const))(
    '%s uses a known role id through subscriptionResourceId',
    (_, assignment) => {
      expect(Object.values(ROLES)).toContain(roleIdOf(infra.file(assignment.file), assignment));
    },
  );

  test.each(assignments.map((a) => [`${a.file}:${a.line} ${a.symbol}`, a] as const))(
    '%s is scoped to one resource declared in its file, and its name is unique to that scope, principal and role',
    (_, assignment) => {
      const file = infra.file(assignment.file);
      const scope = scopeOf(file, assignment);
      expect(scope).toBeDefined();
      // Not the resource group or subscription: the scope is the resource itself.
      expect(scope?.type).not.toMatch(/resourceGroups|subscriptions/i);
      const name = exprText(assignment.body.name) ?? '';
      const principal = exprText(get(assignment.body, 'properties.principalId')) ?? '';
      const roleVar =
        /,\s*(\w+)\)$/.exec(exprText(get(assignment.body, 'properties.roleDefinitionId')) ?? '')?.[1] ?? '';
      expect(name).toBe(`guid(${scope?.symbol}.id, ${principal}, ${roleVar})`);
    },
  );

  test.each(assignments.map((a) => [`${a.file}:${a.line} ${a.symbol}`, a] as const))(
    '%s names its principal type; the app identity is a ServicePrincipal',
    (_, assignment) => {
      const principal = exprText(get(assignment.body, 'properties.principalId'));
      const type = get(assignment.body, 'properties.principalType');
      if (principal === 'managedIdentityPrincipalId') expect(type).toBe('ServicePrincipal');
      else expect(exprText(type)).toBe('userPrincipalType');
    },
  );

  test("the deploying user's roles are optional: only when a principal id is given", () => {
    const userAssignments = assignments.filter(
      (a) => exprText(get(a.body, 'properties.principalId')) === 'userPrincipalId',
    );
    expect(userAssignments.length).toBeGreaterThan(0);
    for (const a of userAssignments) expect(a.condition).toBe('!empty(userPrincipalId)');
    const main = infra.file('infra/main.bicep');
    const rbac = main.modules.find((m) => m.source === './app/rbac.bicep');
    expect(exprText(get(rbac?.body, 'params.userPrincipalId'))).toBe(
      "allowUserIdentityPrincipal ? principalId : ''",
    );
    expect(main.params.get('principalId')?.default).toBe('');
  });

  test("the app's roles go to the identity the function app runs as", () => {
    const main = infra.file('infra/main.bicep');
    const rbac = main.modules.find((m) => m.source === './app/rbac.bicep');
    const api = main.modules.find((m) => m.source === './app/api.bicep');
    expect(exprText(get(rbac?.body, 'params.managedIdentityPrincipalId'))).toBe(
      'identity.outputs.principalId',
    );
    expect(exprText(get(api?.body, 'params.identityId'))).toBe('identity.outputs.id');
    // The scopes are the very resources the app uses, not look-alikes.
    expect(exprText(get(rbac?.body, 'params.storageAccountName'))).toBe('storage.outputs.name');
    expect(exprText(get(api?.body, 'params.storageAccountName'))).toBe('storage.outputs.name');
    expect(exprText(get(rbac?.body, 'params.keyVaultName'))).toBe('keyVault.outputs.name');
    expect(exprText(get(api?.body, 'params.keyVaultUri'))).toBe('keyVault.outputs.uri');
    expect(exprText(get(rbac?.body, 'params.applicationInsightsName'))).toBe(
      'monitoring.outputs.applicationInsightsName',
    );
    expect(exprText(get(api?.body, 'params.applicationInsightsName'))).toBe(
      'monitoring.outputs.applicationInsightsName',
    );
  });

  test('every role id written in the infra carries a comment naming the role', () => {
    const uncommented: string[] = [];
    for (const file of infra.files.values()) {
      file.source.split('\n').forEach((line, index) => {
        for (const id of line.match(GUID) ?? []) {
          const role = (Object.keys(ROLES) as RoleName[]).find((name) => ROLES[name] === id.toLowerCase());
          if (!role || !line.includes(`// ${role}`)) uncommented.push(`${file.path}:${index + 1} ${id}`);
        }
      });
    }
    expect(uncommented).toEqual([]);
  });

  test('no queue role (no queues are used) and no broad role appears anywhere', () => {
    const found: string[] = [];
    for (const file of infra.files.values()) {
      for (const [name, id] of Object.entries(FORBIDDEN))
        if (file.source.toLowerCase().includes(id)) found.push(`${file.path}: ${name}`);
    }
    expect(found).toEqual([]);
  });
});
