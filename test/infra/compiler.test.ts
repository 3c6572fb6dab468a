import {
  chmodSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  INSTALL_HINT,
  REPO_ROOT,
  buildMain,
  describeDiagnostic,
  findBicep,
  parseDiagnostics,
  runBicep,
} from './compiler';

/**
 * The real Bicep compiler over infra/: the template builds, and every file lints, without a single
 * error or warning. There is no skip: without a compiler these tests fail and say how to get one.
 */

// Each compiler run starts a .NET process (1-3 s alone, several times that on a loaded 2-core machine).
jest.setTimeout(120_000);

function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return bicepFiles(full);
    return entry.name.endsWith('.bicep') ? [path.relative(REPO_ROOT, full).split(path.sep).join('/')] : [];
  });
}

const FILES = bicepFiles(path.join(REPO_ROOT, 'infra')).sort();
const config = JSON.parse(readFileSync(path.join(REPO_ROOT, 'bicepconfig.json'), 'utf8')) as {
  analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
};

describe('the Bicep compiler', () => {
  test('is there (BICEP_PATH, the pinned one scripts/install-bicep.sh restores, or one on PATH)', () => {
    const found = findBicep();
    const version = runBicep(['--version']).stdout.trim();
    console.log(`bicep: ${found.path} (${found.source}): ${version}`);
    expect(version).toMatch(/^Bicep CLI version \d+\.\d+\.\d+/);
    if (found.source === 'pinned') {
      const script = readFileSync(path.join(REPO_ROOT, 'scripts/install-bicep.sh'), 'utf8');
      const pinned = /^BICEP_VERSION=(\S+)$/m.exec(script)?.[1];
      expect(version).toContain(`version ${pinned} `);
    }
  });

  test('when there is none, finding it fails and says how to install it (the check is never skipped)', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'no-bicep-'));
    try {
      expect(() => findBicep({ PATH: empty }, path.join(empty, 'bicep'))).toThrow(INSTALL_HINT);
      expect(() => findBicep({ BICEP_PATH: path.join(empty, 'bicep') })).toThrow(
        /BICEP_PATH=.* is not an executable/,
      );
      // A compiler on PATH is used when nothing else is there.
      writeFileSync(path.join(empty, 'bicep'), '#!/bin/sh\n');
      chmodSync(path.join(empty, 'bicep'), 0o755);
      expect(findBicep({ PATH: empty }, path.join(empty, 'missing'))).toEqual({
        path: path.join(empty, 'bicep'),
        source: 'PATH',
      });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('its diagnostics are read with file, position, level and code', () => {
    expect(
      parseDiagnostics(
        `${REPO_ROOT}/infra/main.bicep(38,52) : Warning no-hardcoded-env-urls: Environment URLs should not be hardcoded.\n`,
      ),
    ).toEqual([
      {
        file: 'infra/main.bicep',
        line: 38,
        column: 52,
        level: 'Warning',
        code: 'no-hardcoded-env-urls',
        message: 'Environment URLs should not be hardcoded.',
      },
    ]);
  });
});

describe('bicep build infra/main.bicep', () => {
  test('compiles to a subscription-scope ARM template with no error or warning', () => {
    const { template, run } = buildMain();
    expect(run.diagnostics.filter((d) => d.level !== 'Info').map(describeDiagnostic)).toEqual([]);
    expect(run.status).toBe(0);
    expect(template.$schema).toMatch(/subscriptionDeploymentTemplate\.json#$/);
  });
});

describe('bicep lint', () => {
  test('covers every .bicep file under infra/', () => {
    expect(FILES).toContain('infra/main.bicep');
    expect(FILES.length).toBeGreaterThan(5);
  });

  test.each(FILES)('%s has no error or warning', (file) => {
    const run = runBicep(['lint', file]);
    expect(run.diagnostics.filter((d) => d.level !== 'Info').map(describeDiagnostic)).toEqual([]);
    expect(run.status).toBe(0);
  });
});

describe('bicepconfig.json', () => {
  const rules = config.analyzers.core.rules;

  test('keeps the linter on, with the rules that guard secrets, clouds and dead code at error level', () => {
    expect(config.analyzers.core.enabled).toBe(true);
    const atError = Object.keys(rules).filter((name) => rules[name].level === 'error');
    expect(atError).toEqual(
      expect.arrayContaining([
        'no-hardcoded-env-urls',
        'no-hardcoded-location',
        'no-unused-params',
        'no-unused-vars',
        'outputs-should-not-contain-secrets',
        'secure-parameter-default',
        'secure-secrets-in-params',
        'use-secure-value-for-secure-inputs',
      ]),
    );
    // Nothing is switched off or softened: every rule named here is an error.
    expect(Object.keys(rules).filter((name) => rules[name].level !== 'error')).toEqual([]);
  });

  test('takes effect: a file breaking those rules fails lint with errors naming them', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bicep-lint-'));
    try {
      copyFileSync(path.join(REPO_ROOT, 'bicepconfig.json'), path.join(dir, 'bicepconfig.json'));
      writeFileSync(
        path.join(dir, 'bad.bicep'),
        [
          'param unused string',
          "var unusedVar = 'x'",
          "output authority string = 'https://login.microsoftonline.com/'",
          "@secure()\nparam password string = 'not-a-secret-default'",
          'output pw string = password',
          '',
        ].join('\n'),
      );
      const run = runBicep(['lint', path.join(dir, 'bad.bicep')]);
      const errors = new Set(run.diagnostics.filter((d) => d.level === 'Error').map((d) => d.code));
      for (const rule of [
        'no-unused-params',
        'no-unused-vars',
        'no-hardcoded-env-urls',
        'secure-parameter-default',
        'outputs-should-not-contain-secrets',
      ])
        expect(errors).toContain(rule);
      expect(run.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
