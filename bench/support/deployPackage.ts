import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ignore from 'ignore';
import { repoRoot } from '../harness';

/** The folder `npm run package` stages and azure.yaml's `dist:` names. */
export const PACKAGE_DIR = path.join(repoRoot(), 'dist-package');

/**
 * Builds the deploy package with the real script (`npm run package`), reusing one whose inputs
 * are unchanged, so the tests and the cold-start benchmark share one build per change. Returns
 * how long it took.
 */
export function buildDeployPackage(): number {
  const started = Date.now();
  execFileSync(process.execPath, [path.join(repoRoot(), 'scripts/package.js'), '--reuse'], {
    cwd: repoRoot(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return Date.now() - started;
}

/** Every file under a folder, as posix paths relative to it (directories end in `/`). */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        out.push(`${child}/`);
        walk(child);
      } else out.push(child);
    }
  };
  walk('');
  return out;
}

/**
 * The files azd puts in the zip it deploys from a folder (createDeployableZip in azure-dev): all
 * but `.azure/`, the ignore file itself, `local.settings.json`, and what the folder's .funcignore
 * drops under gitignore rules. Posix paths relative to the folder.
 */
export function azdZipEntries(root: string): string[] {
  const ignoreFile = path.join(root, '.funcignore');
  const rules = ignore().add(fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8') : '');
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      const isDir = fs.statSync(path.join(root, child)).isDirectory();
      if (isDir && entry.name === '.azure') continue;
      if (!isDir && ['.funcignore', 'local.settings.json'].includes(entry.name)) continue;
      if (rules.ignores(isDir ? `${child}/` : child)) continue;
      if (isDir) walk(child);
      else out.push(child);
    }
  };
  walk('');
  return out;
}

/** Size and file count of what azd deploys from the folder (uncompressed). */
export function deploySize(root: string): { bytes: number; files: number } {
  const files = azdZipEntries(root);
  const bytes = files.reduce((sum, file) => sum + fs.statSync(path.join(root, file)).size, 0);
  return { bytes, files: files.length };
}
