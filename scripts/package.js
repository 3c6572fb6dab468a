#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * Builds the deploy package: the exact folder azd zips and sends to Azure (azure.yaml `dist:`).
 *
 *   node scripts/package.js [--out DIR] [--reuse]
 *
 * - dist/: the app compiled from src/index.ts and only what it imports (tsconfig.package.json), so
 *   the local host, the sandbox, the CLI and the benchmarks cannot end up in it wherever they live.
 * - host.json, package.json, package-lock.json, .funcignore (azd applies the latter to this folder).
 * - node_modules: production dependencies only, `npm ci --omit=dev --ignore-scripts` from the lock,
 *   less their source maps and type declarations: Node never loads either, and they were 26 of the
 *   55 MiB and 5,750 of the 10,146 files (fewer files to unzip and stat on every cold start).
 *
 * The folder is built next to its destination and renamed into place, under a lock, so a reader
 * never sees half a package and two builders never write into one. With --reuse, a package whose
 * inputs (sources, manifests, lock, this script) are unchanged is kept: the test suite and the
 * cold-start benchmark share one build per change instead of one per file.
 */
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const COPIED = ['host.json', 'package.json', 'package-lock.json', '.funcignore'];
const STAMP = '.package-inputs';

function parseArgs(argv) {
  const args = { out: path.join(ROOT, 'dist-package'), reuse: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = path.resolve(argv[++i] ?? '');
    else if (argv[i] === '--reuse') args.reuse = true;
    else throw new Error(`unknown argument ${argv[i]} (usage: scripts/package.js [--out DIR] [--reuse])`);
  }
  return args;
}

/** Every input the package is made from, hashed: a change to any of them means a rebuild. */
function inputsKey() {
  const hash = crypto.createHash('sha256');
  const files = [...COPIED, 'tsconfig.json', 'tsconfig.package.json', 'scripts/package.js'];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else files.push(rel);
    }
  };
  walk('src');
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(fs.readFileSync(path.join(ROOT, file)));
  }
  return hash.digest('hex');
}

/**
 * npm as the running npm gave it (`npm run package` sets npm_execpath), else from PATH. Not
 * `npm.cmd` on Windows: Node refuses to spawn .cmd files without a shell.
 */
function npmCommand() {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.c?js$/.test(cli)) return [process.execPath, cli];
  return process.platform === 'win32' ? [process.env.ComSpec ?? 'cmd.exe', '/d', '/s', '/c', 'npm'] : ['npm'];
}

function run(command, args, cwd) {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

function build(out, key) {
  const partial = `${out}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  try {
    const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
    run(
      process.execPath,
      [tsc, '-p', path.join(ROOT, 'tsconfig.package.json'), '--outDir', path.join(partial, 'dist')],
      ROOT,
    );
    for (const file of COPIED) fs.copyFileSync(path.join(ROOT, file), path.join(partial, file));
    const [npm, ...npmArgs] = npmCommand();
    run(
      npm,
      [
        ...npmArgs,
        'ci',
        '--omit=dev',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
      ],
      partial,
    );
    pruneUnloaded(path.join(partial, 'node_modules'));
    fs.writeFileSync(path.join(partial, STAMP), key);
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(partial, out);
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

const UNLOADED = /\.(?:map|d\.[cm]?ts)$/;

/** Deletes the files Node never loads at run time: source maps and TypeScript declarations. */
function pruneUnloaded(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) pruneUnloaded(file);
    else if (entry.isFile() && UNLOADED.test(entry.name)) fs.rmSync(file);
  }
}

/** A lock directory: mkdir is atomic. A lock older than ten minutes is a crashed builder's. */
function withLock(out, fn) {
  const lock = `${out}.lock`;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EEXIST') throw error;
      const age = Date.now() - fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs;
      if (age > 10 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`${lock} is held by another build`);
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function main() {
  const { out, reuse } = parseArgs(process.argv.slice(2));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  withLock(out, () => {
    const key = inputsKey();
    const stamp = path.join(out, STAMP);
    if (reuse && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === key) {
      console.log(`deploy package up to date: ${out}`);
      return;
    }
    const started = Date.now();
    build(out, key);
    console.log(`deploy package built in ${((Date.now() - started) / 1000).toFixed(1)} s: ${out}`);
  });
}

main();
