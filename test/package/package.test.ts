import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeUnderNode22 } from '../support/node22';
import {
  PACKAGE_DIR,
  azdZipEntries,
  buildDeployPackage,
  deploySize,
  listTree,
} from '../../bench/support/deployPackage';

const REPO_ROOT = path.resolve(__dirname, '../..');

// The deploy package as Azure gets it: built by `npm run package`, filtered the way azd zips it
// (its .funcignore, with gitignore rules), unpacked into an empty folder outside the repository
// and loaded in a fresh Node process that cannot reach the repository's node_modules.
jest.setTimeout(300_000);

interface Capture {
  node: string;
  functions: Array<{ name: string; bindings: Array<Record<string, unknown>> }>;
  modules: string[];
}

const CAPTURE_SCRIPT = path.join(__dirname, 'captureRegistrations.js');
let unpacked = '';
let fromRepo: Capture;

/** Unpacks into `target` what azd would zip from `source`. */
function unpackAsAzdZips(source: string, target: string): void {
  for (const file of azdZipEntries(source)) {
    fs.mkdirSync(path.dirname(path.join(target, file)), { recursive: true });
    fs.copyFileSync(path.join(source, file), path.join(target, file));
  }
}

function capture(node: string, appDir: string, cwd: string): Capture {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: os.tmpdir() };
  const output = execFileSync(node, [path.join(cwd, path.basename(CAPTURE_SCRIPT)), appDir], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(output.trim().split('\n').pop() as string) as Capture;
}

beforeAll(() => {
  const took = buildDeployPackage();
  console.log(`deploy package ready in ${(took / 1000).toFixed(1)} s (0 when reused): ${PACKAGE_DIR}`);
  unpacked = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-package-')), 'wwwroot');
  fs.mkdirSync(unpacked);
  unpackAsAzdZips(PACKAGE_DIR, unpacked);
  const size = deploySize(unpacked);
  console.log(`deploy package: ${(size.bytes / 2 ** 20).toFixed(1)} MiB in ${size.files} files`);
  fs.copyFileSync(CAPTURE_SCRIPT, path.join(unpacked, '..', path.basename(CAPTURE_SCRIPT)));
  fromRepo = capture(process.execPath, REPO_ROOT, path.dirname(CAPTURE_SCRIPT));
});

afterAll(() => {
  if (unpacked) fs.rmSync(path.dirname(unpacked), { recursive: true, force: true });
});

test('the repository build registers the functions the app is made of', () => {
  const names = fromRepo.functions.map((f) => f.name);
  expect(names).toEqual(
    expect.arrayContaining(['health', 'customers', 'snapshots', 'snapshotTimer', 'retentionTimer']),
  );
  expect(names.length).toBeGreaterThanOrEqual(14);
  // Queue triggers are compared by queue and connection too, so a package that read another
  // setting (or none) for either would differ from the repository build.
  const queueTrigger = fromRepo.functions
    .find((f) => f.name === 'snapshotRequest')
    ?.bindings.find((b) => b.type === 'queueTrigger');
  expect(queueTrigger).toMatchObject({
    queueName: '%SNAPSHOT_REQUEST_QUEUE%',
    connection: expect.any(String),
  });
  // The usage export's poison-queue trigger: the setting with the host's -poison suffix.
  expect(
    fromRepo.functions
      .find((f) => f.name === 'usageExportPoison')
      ?.bindings.find((b) => b.type === 'queueTrigger'),
  ).toMatchObject({ queueName: '%USAGE_EXPORT_QUEUE%-poison', connection: expect.any(String) });
});

describe(`the unpacked package under this runner's Node ${process.version}`, () => {
  test('registers every function the repository build registers: names, routes, methods, auth levels, schedules, queues', () => {
    const inPackage = capture(process.execPath, unpacked, path.dirname(unpacked));
    expect(inPackage.functions).toEqual(fromRepo.functions);
    // Loaded from the package alone: not a module from the repository or any other folder.
    expect(inPackage.modules.filter((file) => !file.startsWith(path.dirname(unpacked) + path.sep))).toEqual(
      [],
    );
    expect(
      inPackage.modules.some((file) =>
        file.includes(`${path.sep}node_modules${path.sep}@azure${path.sep}functions${path.sep}`),
      ),
    ).toBe(true);
  });
});

describeUnderNode22('the unpacked package', (node) => {
  test('registers every function the repository build registers, under Node 22', () => {
    const inPackage = capture(node, unpacked, path.dirname(unpacked));
    expect(inPackage.node).toMatch(/^v22\./);
    expect(inPackage.functions).toEqual(fromRepo.functions);
  });
});

describe('what the package holds', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean }>;
  };
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const installed = () =>
    listTree(unpacked)
      .filter(
        (p) =>
          /^(?:node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/)+$/.test(p) &&
          fs.existsSync(path.join(unpacked, p, 'package.json')),
      )
      .map((p) => p.slice(0, -1))
      .filter((p) => !p.endsWith('/node_modules'));

  test('the app, host.json and the manifests at the root', () => {
    const top = fs.readdirSync(unpacked).sort();
    expect(top).toEqual(['dist', 'host.json', 'node_modules', 'package-lock.json', 'package.json']);
    expect(fs.readFileSync(path.join(unpacked, 'host.json'), 'utf8')).toBe(
      fs.readFileSync(path.join(REPO_ROOT, 'host.json'), 'utf8'),
    );
  });

  test('no local host, sandbox, CLI, benchmarks or source maps in dist/', () => {
    const dist = fs.readdirSync(path.join(unpacked, 'dist'));
    for (const devOnly of ['localHost', 'sandbox', 'cli', 'bench']) expect(dist).not.toContain(devOnly);
    expect(
      listTree(path.join(unpacked, 'dist')).filter((p) => !p.endsWith('/') && !p.endsWith('.js')),
    ).toEqual([]);
  });

  test('no source maps or type declarations, which Node never loads', () => {
    expect(listTree(unpacked).filter((p) => /\.(?:map|d\.[cm]?ts)$/.test(p))).toEqual([]);
  });

  test('production dependencies only: exactly the non-dev packages of the lock file', () => {
    const production = Object.entries(lock.packages)
      .filter(([key, meta]) => key.startsWith('node_modules/') && !meta.dev)
      .map(([key]) => key);
    expect(installed().sort()).toEqual(production.sort());
    for (const dev of [
      ...Object.keys(manifest.devDependencies),
      'jest',
      'typescript',
      'azurite',
      'tree-sitter',
    ]) {
      expect(fs.existsSync(path.join(unpacked, 'node_modules', dev))).toBe(false);
    }
  });
});
