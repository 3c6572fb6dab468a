import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BicepFile, Value } from './bicep';
import { INFRA_DIR, isExpr, loadInfra, nodesOfType } from './bicep';

/**
 * No secret in a template, a parameter file or an output: the Partner Center client secret and refresh
 * token are set by the operator after deployment, and nothing here hands out keys.
 */

const infra = loadInfra();
const files = [...infra.files.values()];

/** Names that suggest a secret value (a *Name or *Id holding one is fine: it is only a pointer). */
const SECRET_NAME = /(secret|token|password|passwd|pwd|apikey|accountkey|connectionstring|sas)$/i;
const POINTER_NAME = /(name|names|id|uri|url|endpoint)$/i;

/** Things that read or carry a secret value when they appear in an expression. */
const SECRET_SOURCES = [
  /\blist\w*\(/i, // listKeys(), listSecrets(), listConnectionStrings() …
  /\.properties\.value\b/i, // a Key Vault secret's value
  /connectionstring/i,
  /instrumentationkey/i,
  /accountkey|primarykey|secondarykey/i,
  /\bgetSecret\(/i,
];

/** Literal strings that look like a credential rather than configuration. */
const SECRET_LITERALS = [
  /AccountKey=/i,
  /SharedAccessSignature|[?&]sig=/i,
  /InstrumentationKey=/i,
  /^eyJ[\w-]+\.[\w-]+\./, // a JWT
  /^[A-Za-z0-9+/]{40,}={0,2}$/, // a long base64 blob
  /^[0-9a-f]{32,}$/i, // a long hex key
  /~[0-9A-Za-z._-]{30,}/, // an Entra client secret
];

/** Names compared without separators: CONNECTION_STRING, connection-string and connectionString alike. */
const squash = (name: string): string => name.replace(/[_-]/g, '');

function literalStrings(value: Value | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(literalStrings);
  if (value && typeof value === 'object' && !isExpr(value))
    return Object.values(value).flatMap(literalStrings);
  return [];
}

function secureParams(file: BicepFile): string[] {
  return [...file.params.values()].filter((p) => p.secure).map((p) => p.name);
}

describe('secrets', () => {
  test('no Key Vault secret is declared (the operator sets the values; a template would overwrite the rotated token)', () => {
    expect(infra.resources('Microsoft.KeyVault/vaults/secrets').map((r) => `${r.file}:${r.line}`)).toEqual(
      [],
    );
  });

  test.each(
    files.flatMap((f) => [...f.outputs.values()].map((o) => [`${f.path} output ${o.name}`, f, o] as const)),
  )('%s carries no secret', (_, file, output) => {
    expect(output.secure).toBe(false);
    const text = isExpr(output.value) ? output.value.text : JSON.stringify(output.value);
    for (const pattern of SECRET_SOURCES) expect(`${squash(output.name)} = ${text}`).not.toMatch(pattern);
    for (const name of secureParams(file)) expect(text).not.toMatch(new RegExp(`\\b${name}\\b`));
    for (const literal of literalStrings(output.value))
      for (const pattern of SECRET_LITERALS) expect(literal).not.toMatch(pattern);
    if (SECRET_NAME.test(squash(output.name))) expect(squash(output.name)).toMatch(POINTER_NAME);
  });

  test.each(
    files.flatMap((f) => [...f.params.values()].map((p) => [`${f.path} param ${p.name}`, p] as const)),
  )('%s has no secret default', (_, param) => {
    // A parameter that holds a secret value must be @secure() and have no default.
    if (SECRET_NAME.test(squash(param.name)) && !POINTER_NAME.test(param.name)) {
      expect(param.secure).toBe(true);
      expect('default' in param).toBe(false);
    }
    if (param.secure) expect('default' in param).toBe(false);
    for (const literal of literalStrings(param.default))
      for (const pattern of SECRET_LITERALS) expect(literal).not.toMatch(pattern);
  });

  test('no template reads a key or connection string of any resource', () => {
    const reads: string[] = [];
    for (const file of files) {
      for (const node of nodesOfType(file, 'call_expression')) {
        if (/^(\w+\.)?list\w*$/i.test(node.namedChildren[0]?.text ?? ''))
          reads.push(`${file.path}:${node.startPosition.row + 1} ${node.text}`);
      }
    }
    expect(reads).toEqual([]);
  });

  test('Key Vault secret names are passed as names only, never with values', () => {
    const main = infra.file('infra/main.bicep');
    for (const name of ['partnerCenterClientSecretName', 'partnerCenterRefreshTokenName']) {
      const param = main.params.get(name);
      expect(param?.secure).toBe(false);
      expect(param?.default).toMatch(/^[0-9a-zA-Z-]{1,127}$/);
    }
    // Neither the secret value nor the refresh token is a parameter anywhere.
    const valueParams = files.flatMap((f) =>
      [...f.params.keys()]
        .filter((n) => /(clientsecret|refreshtoken)$/i.test(n))
        .map((n) => `${f.path}: ${n}`),
    );
    expect(valueParams).toEqual([]);
  });

  test('main.parameters.json only maps azd environment variables, and none of them is a secret', () => {
    const json = JSON.parse(readFileSync(path.join(INFRA_DIR, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value?: unknown; reference?: unknown }>;
    };
    const main = infra.file('infra/main.bicep');
    for (const [name, entry] of Object.entries(json.parameters)) {
      expect(`${name}: ${typeof entry.value}`).toBe(`${name}: string`);
      expect(entry.reference).toBeUndefined(); // no Key Vault references pulling secrets into a deployment
      expect(String(entry.value)).toMatch(/^\$\{[A-Z][A-Z0-9_]*(=[^}]*)?\}$/);
      expect(String(entry.value)).not.toMatch(/SECRET|TOKEN|PASSWORD|KEY\b/);
      expect(main.params.has(name)).toBe(true);
      expect(main.params.get(name)?.secure).toBe(false);
    }
  });

  test('no literal in any template looks like a credential', () => {
    const found: string[] = [];
    for (const file of files) {
      for (const node of nodesOfType(file, 'string_content')) {
        for (const pattern of SECRET_LITERALS)
          if (pattern.test(node.text)) found.push(`${file.path}:${node.startPosition.row + 1}`);
      }
    }
    expect(found).toEqual([]);
  });

  test('the app reaches Key Vault by URI and identity, never through a Key Vault reference app setting', () => {
    const api = infra.file('infra/app/api.bicep');
    expect(api.source).not.toMatch(/@Microsoft\.KeyVault\(/);
    expect(api.params.get('keyVaultUri')?.secure).toBe(false);
  });
});
