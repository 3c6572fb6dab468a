import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { PACKAGE_DIR, buildDeployPackage, listTree } from '../../bench/support/deployPackage';

const REPO_ROOT = path.resolve(__dirname, '../..');

// azd filters the zip it deploys with the .funcignore at the root of the folder it zips, using
// gitignore rules (github.com/denormal/go-gitignore, in createDeployableZip); it also reads the
// project's .funcignore to refuse `remoteBuild: false` when node_modules is dropped. `ignore` is
// the same gitignore semantics in npm; every rule here is anchored, where the two agree.
jest.setTimeout(300_000);

const funcignore = fs.readFileSync(path.join(REPO_ROOT, '.funcignore'), 'utf8');
const rules = (text: string): Ignore => ignore().add(text);
const dropped = (matcher: Ignore, paths: string[]) => paths.filter((p) => matcher.ignores(p));

let packageFiles: string[] = [];

beforeAll(() => {
  buildDeployPackage();
  packageFiles = listTree(PACKAGE_DIR);
});

test('every rule is anchored to the folder being zipped', () => {
  const patterns = funcignore.split('\n').filter((line) => line.trim() && !line.startsWith('#'));
  expect(patterns.length).toBeGreaterThan(10);
  expect(patterns.filter((p) => !p.startsWith('/'))).toEqual([]);
});

test('the package azd zips is the one `npm run package` staged, with this .funcignore', () => {
  expect(fs.readFileSync(path.join(PACKAGE_DIR, '.funcignore'), 'utf8')).toBe(funcignore);
});

test('drops no file of the deploy package but its build stamp', () => {
  // Nested src/ and dist/ folders of dependencies are what unanchored rules used to delete.
  const nested = packageFiles.filter((p) => /^node_modules\/.+\/(src|dist)\/.+\.js$/.test(p));
  expect(nested.length).toBeGreaterThan(100);
  expect(dropped(rules(funcignore), packageFiles)).toEqual(['.package-inputs']);
});

test('an unanchored rule would be caught: `src` drops dependency code from the package', () => {
  expect(dropped(rules('src\n'), packageFiles).filter((p) => p.startsWith('node_modules/'))).not.toEqual([]);
});

test('applied to the repository, it drops the repo-only folders and keeps the app and node_modules', () => {
  const matcher = rules(funcignore);
  for (const repoOnly of [
    'src/',
    'test/',
    'bench/',
    'docs/',
    'infra/',
    'scripts/',
    'coverage/',
    'dist-bench/',
    'dist-package/',
    '.tools/',
    '.azure/',
    'dev/',
    'dist-dev/',
    'dist/localHost/',
    'dist/sandbox/',
    'dist/cli/',
    'dist/index.js.map',
    'dist/index.d.ts',
    'dist/tsconfig.build.tsbuildinfo',
    'local.settings.json',
    'README.md',
    'tsconfig.json',
  ]) {
    expect(`${repoOnly}: ${matcher.ignores(repoOnly)}`).toBe(`${repoOnly}: true`);
  }
  for (const kept of [
    'node_modules/',
    'dist/',
    'dist/index.js',
    'dist/functions/health.js',
    'host.json',
    'package.json',
  ]) {
    expect(`${kept}: ${matcher.ignores(kept)}`).toBe(`${kept}: false`);
  }
});
