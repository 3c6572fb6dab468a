import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../../src/localHost/azurite';
import { freePort } from '../../src/localHost/freePort';
import { repoRoot, type Scenario } from '../harness';
import { benchAppEnv } from '../support/appEnv';

interface Params {
  /** Fresh processes to start; the median is reported. */
  runs: number;
}

const root = repoRoot();

/**
 * Cold start: a fresh Node process loads the built app (dist/, what Azure runs) through the
 * local host, and the harness times (a) process start → every function registered and
 * (b) process start → first answered request. Also the size of the deployable package.
 */
export const coldStart: Scenario<Params> = {
  name: 'coldStart',
  description: 'fresh process to functions loaded and to first answered request; package size',
  full: { runs: 7 },
  smoke: { runs: 1 },
  async run(params, log) {
    const entry = path.join(root, 'dist', 'index.js');
    if (!fs.existsSync(entry))
      throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
    const azurite = await startAzurite();
    const loaded: number[] = [];
    const firstAnswer: number[] = [];
    try {
      for (let i = 0; i < params.runs; i++) {
        const timing = await oneColdStart(azurite.connectionString);
        loaded.push(timing.loadedMs);
        firstAnswer.push(timing.firstAnswerMs);
        log(
          `  run ${i + 1}: loaded ${timing.loadedMs.toFixed(0)} ms, first answer ${timing.firstAnswerMs.toFixed(0)} ms`,
        );
      }
    } finally {
      await azurite.stop();
    }
    const size = packageSize();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {
      scenario: 'coldStart',
      description: this.description,
      parameters: params,
      figures: [
        { name: 'functions loaded (median)', value: median(loaded), unit: 'ms' },
        { name: 'first answered request (median)', value: median(firstAnswer), unit: 'ms' },
        { name: 'package size', value: size.bytes / 2 ** 20, unit: 'MiB' },
        { name: 'package files', value: size.files, unit: 'files' },
      ],
    };
  },
};

async function oneColdStart(connectionString: string): Promise<{ loadedMs: number; firstAnswerMs: number }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [path.join(root, 'bench/scenarios/coldStartChild.js'), String(port), root],
    {
      cwd: root,
      env: { ...process.env, ...benchAppEnv(connectionString) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    let output = '';
    const loadedMs = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /loaded (\d+(?:\.\d+)?)/.exec(output);
        if (match && output.includes('listening')) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`cold start child exited ${code}: ${output}`)));
    });
    // First answer: poll until the server answers; measured against the child's own start.
    const started = Number(/origin (\d+(?:\.\d+)?)/.exec(output)?.[1]);
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/health`);
        await res.arrayBuffer();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    return { loadedMs, firstAnswerMs: Date.now() - started };
  } finally {
    child.kill('SIGKILL');
  }
}

/** What `.funcignore` leaves in the deployment: built code, manifests and production packages. */
function packageSize(): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (p: string) => {
    const stat = fs.statSync(p);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    } else if (!p.endsWith('.map')) {
      bytes += stat.size;
      files++;
    }
  };
  for (const dir of fs.readdirSync(path.join(root, 'dist'))) {
    if (!['localHost', 'sandbox', 'bench'].includes(dir)) walk(path.join(root, 'dist', dir));
  }
  for (const file of ['package.json', 'host.json']) walk(path.join(root, file));
  // Production dependencies only, as `npm ci --omit=dev` would install them.
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (key.startsWith('node_modules/') && !meta.dev && fs.existsSync(path.join(root, key))) {
      for (const name of fs.readdirSync(path.join(root, key))) {
        if (name !== 'node_modules') walk(path.join(root, key, name));
      }
    }
  }
  return { bytes, files };
}
