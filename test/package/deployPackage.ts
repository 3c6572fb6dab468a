import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
/** The folder `npm run package` stages and azure.yaml's `dist:` names. */
export const PACKAGE_DIR = path.join(REPO_ROOT, 'dist-package');

/**
 * Builds the deploy package with the real script (`npm run package`), reusing one whose inputs
 * are unchanged, so test files and the cold-start benchmark share one build per change. Returns
 * how long it took.
 */
export function buildDeployPackage(): number {
  const started = Date.now();
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts/package.js'), '--reuse'], {
    cwd: REPO_ROOT,
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
