import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Expr, INFRA_DIR, REPO_ROOT, loadInfra, nodesOfType, parseBicep, resolveModulePath } from './bicep';

const infra = loadInfra();
const files = [...infra.files.values()];
const describeProblems = (problems: { kind: string; line: number; column: number; text: string }[]) =>
  problems.map((p) => `${p.kind} at ${p.line}:${p.column} ${JSON.stringify(p.text)}`);

describe('the Bicep reader itself', () => {
  test('when a file has a syntax error, then it is reported with its position', () => {
    const broken = parseBicep(
      "param location string\nresource sa 'Microsoft.Storage/storageAccounts@2023-05-01' = {\n  name: \n",
      'x',
    );
    expect(broken.problems.length).toBeGreaterThan(0);
    expect(broken.problems[0].line).toBeGreaterThanOrEqual(2);
  });

  test('when a token is missing, then a MISSING problem names it', () => {
    const file = parseBicep('var total = (1 + 2\nvar next = 1\n', 'x');
    expect(file.problems).toEqual([{ kind: 'MISSING', line: 1, column: 19, text: ')' }]);
    expect(file.root.hasError).toBe(true);
  });

  test('when a value is a literal, then it becomes a JS value; otherwise its source is kept', () => {
    const file = parseBicep(
      [
        "param name string = 'it\\'s'",
        "resource r 'Microsoft.Web/sites@2024-04-01' existing = {",
        '  name: name',
        '  properties: {',
        "    list: [ 'a', 1, true, null ]",
        "    mixed: '${name}-x'",
        '  }',
        "  resource child 'config' = {",
        "    name: 'appsettings'",
        '  }',
        '}',
      ].join('\n'),
    );
    expect(file.problems).toEqual([]);
    expect(file.params.get('name')?.default).toBe("it's");
    const [site, child] = file.resources;
    expect(site.existing).toBe(true);
    expect(site.body.properties).toEqual({
      list: ['a', 1, true, null],
      mixed: new Expr("'${name}-x'", 'string'),
    });
    expect(child.type).toBe('Microsoft.Web/sites/config');
    expect(child.apiVersion).toBe('2024-04-01');
  });
});

describe('syntax', () => {
  test('there is Bicep to check', () => {
    expect(infra.files.has('infra/main.bicep')).toBe(true);
    expect(files.length).toBeGreaterThan(1);
  });

  test.each(files.map((f) => [f.path, f] as const))('%s parses without ERROR or MISSING nodes', (_, file) => {
    expect(describeProblems(file.problems)).toEqual([]);
    expect(file.root.hasError).toBe(false);
  });

  test.each(['infra/main.parameters.json', 'infra/abbreviations.json'])('%s is valid JSON', (rel) => {
    expect(() => JSON.parse(readFileSync(path.join(REPO_ROOT, rel), 'utf8'))).not.toThrow();
  });
});

describe('modules', () => {
  const modules = files.flatMap((f) => f.modules);

  test('main.bicep is at subscription scope and creates the resource group every module deploys into', () => {
    const main = infra.file('infra/main.bicep');
    expect(main.targetScope).toBe('subscription');
    const groups = main.resources.filter((r) => r.type === 'Microsoft.Resources/resourceGroups');
    expect(groups).toHaveLength(1);
    for (const module of main.modules)
      expect(`${module.symbol}: ${String(module.body.scope)}`).toBe(`${module.symbol}: ${groups[0].symbol}`);
  });

  test('every module is a local file (plain declarations, no registry modules)', () => {
    expect(modules.filter((m) => /^(br|ts)[:/]/.test(m.source)).map((m) => `${m.file}: ${m.source}`)).toEqual(
      [],
    );
  });

  test.each(modules.map((m) => [`${m.file} → ${m.source}`, m] as const))('%s exists', (_, module) => {
    expect(existsSync(path.join(REPO_ROOT, resolveModulePath(module)))).toBe(true);
  });

  test('every .bicep file is reachable from main.bicep', () => {
    const reached = new Set<string>(['infra/main.bicep']);
    const queue = ['infra/main.bicep'];
    while (queue.length > 0) {
      for (const module of infra.file(queue.shift() as string).modules) {
        const target = resolveModulePath(module);
        if (!reached.has(target) && infra.files.has(target)) {
          reached.add(target);
          queue.push(target);
        }
      }
    }
    expect([...infra.files.keys()].filter((f) => !reached.has(f))).toEqual([]);
  });

  test.each(modules.map((m) => [`${m.file} → ${m.source}`, m] as const))(
    '%s passes only parameters the module declares, and every one it requires',
    (_, module) => {
      const target = infra.moduleTarget(module);
      expect(target).toBeDefined();
      const passed = Object.keys((module.body.params ?? {}) as object);
      const declared = [...(target?.params.keys() ?? [])];
      const required = [...(target?.params.values() ?? [])]
        .filter((p) => !('default' in p))
        .map((p) => p.name);
      expect(passed.filter((p) => !declared.includes(p))).toEqual([]);
      expect(required.filter((p) => !passed.includes(p))).toEqual([]);
    },
  );

  test('every <module>.outputs.<name> reference names an output that module declares', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const bySymbol = new Map(file.modules.map((m) => [m.symbol, infra.moduleTarget(m)]));
      for (const node of nodesOfType(file, 'member_expression')) {
        const match = /^(\w+)\.outputs\.(\w+)$/.exec(node.text);
        if (!match || !bySymbol.has(match[1])) continue;
        if (!bySymbol.get(match[1])?.outputs.has(match[2]))
          wrong.push(`${file.path}:${node.startPosition.row + 1} ${node.text}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('loadJsonContent paths exist and every abbreviation used is defined', () => {
    const abbreviations = JSON.parse(
      readFileSync(path.join(INFRA_DIR, 'abbreviations.json'), 'utf8'),
    ) as Record<string, string>;
    const missing: string[] = [];
    for (const file of files) {
      for (const match of file.source.matchAll(/loadJsonContent\('([^']+)'\)/g)) {
        if (!existsSync(path.resolve(REPO_ROOT, path.dirname(file.path), match[1])))
          missing.push(`${file.path}: ${match[1]}`);
      }
      for (const match of file.source.matchAll(/\babbrs\.(\w+)/g)) {
        if (!(match[1] in abbreviations)) missing.push(`${file.path}: abbrs.${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
