import fs from 'node:fs';
import path from 'node:path';
import { SETTINGS } from '../../src/config/settings';

const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');

/** Rows of the Configuration section's table as trimmed cells (prettier pads them). */
function settingRows(): string[][] {
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## API reference'));
  return section
    .split('\n')
    .filter((line) => /^\| `[A-Z][A-Za-z0-9_]+` +\|/.test(line))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

test('the README configuration table has one row per setting, with its default', () => {
  const rows = settingRows();
  expect(rows.map((r) => r[0].replace(/`/g, '')).sort()).toEqual(SETTINGS.map((s) => s.name).sort());
  for (const spec of SETTINGS) {
    const row = rows.find((r) => r[0] === `\`${spec.name}\``) as string[];
    const defaultCell =
      spec.default !== undefined ? `\`${spec.default}\`` : spec.optional ? '_(unset)_' : '**required**';
    expect(row[2]).toBe(defaultCell);
  }
});

test('the README states the commands the quick start promises, and package.json has them', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { scripts: Record<string, string> };
  for (const script of ['start', 'test', 'snapshot', 'sandbox', 'bench', 'build']) {
    expect(pkg.scripts[script]).toBeDefined();
    expect(readme).toContain(script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`);
  }
});
