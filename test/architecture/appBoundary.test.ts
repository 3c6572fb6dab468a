import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
const SRC = path.join(ROOT, 'src');

/** Every .ts file under `dir`. */
function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * The module specifiers of `file` that leave src/: relative ones resolving outside it (but to
 * package.json), and the
 * dev code's '#app/' alias. TypeScript's own pre-processor finds them, including `import type`,
 * `import()` and `require()`.
 */
function importsLeavingSrc(file: string, text: string): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((spec) => {
      if (spec.startsWith('#')) return true;
      if (!spec.startsWith('.')) return false;
      const target = path.resolve(path.dirname(file), spec);
      // package.json ships with the app (src/version.ts reads its name and version).
      return target !== path.join(ROOT, 'package.json') && path.relative(SRC, target).startsWith('..');
    });
}

describe('src/ is the deployed app and nothing else', () => {
  test('no file under src/ imports or requires anything outside src/ but packages (dev/, test/, bench/)', () => {
    const files = sourceFiles(SRC);
    expect(files.length).toBeGreaterThan(50);
    const leaving = files.flatMap((file) =>
      importsLeavingSrc(file, fs.readFileSync(file, 'utf8')).map(
        (spec) => `${path.relative(ROOT, file)}: ${spec}`,
      ),
    );
    expect(leaving).toEqual([]);
  });

  test('the scan sees every way of reaching dev/ (so the test above can fail)', () => {
    const file = path.join(SRC, 'functions', 'probe.ts');
    const text = [
      "import { startLocalHost } from '../../dev/localHost/host';",
      "import type { Sandbox } from '../../dev/sandbox';",
      "const core = require('../../dist-dev/localHost/functionsCore');",
      "export const later = () => import('../../dev/cli/snapshot');",
      "import { getSettings } from '#app/config/settings';",
      "import { z } from 'zod';",
      "import { APP_VERSION } from '../version';",
      "const pkg = require('../../package.json');",
    ].join('\n');
    expect(importsLeavingSrc(file, text)).toEqual([
      '../../dev/localHost/host',
      '../../dev/sandbox',
      '../../dist-dev/localHost/functionsCore',
      '../../dev/cli/snapshot',
      '#app/config/settings',
    ]);
  });

  test('the dev code is not under src/ any more', () => {
    for (const moved of ['localHost', 'sandbox', 'cli'])
      expect(fs.existsSync(path.join(SRC, moved))).toBe(false);
  });
});
