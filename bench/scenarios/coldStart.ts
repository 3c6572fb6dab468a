import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAzurite } from '../../dev/localHost/azurite';
import { freePort } from '../../dev/localHost/freePort';
import { repoRoot, type Scenario } from '../harness';
import { benchAppEnv } from '../support/appEnv';
import { PACKAGE_DIR, buildDeployPackage, deploySize } from '../support/deployPackage';

interface Params {
  /** Fresh processes to start; the median is reported. */
  runs: number;
}

const root = repoRoot();

/**
 * Cold start of the deploy package (dist-package/, built by `npm run package`: what Azure runs,
 * with its own production-only node_modules): a fresh Node process loads it, the local host
 * serves it, and the harness times (a) process start → every function registered and (b) process
 * start → first answered request. Also the size and file count of what azd deploys.
 */
export const coldStart: Scenario<Params> = {
  name: 'coldStart',
  description: 'fresh process to functions loaded and to first answered request; package size',
  full: { runs: 7 },
  smoke: { runs: 1 },
  async run(params, log) {
    if (!fs.existsSync(path.join(root, 'dist-dev', 'localHost', 'host.js')))
      throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
    const buildMs = buildDeployPackage();
    log(`  deploy package ready in ${(buildMs / 1000).toFixed(1)} s (reused when its inputs are unchanged)`);
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
    const size = deploySize(PACKAGE_DIR);
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
    [path.join(root, 'bench/scenarios/coldStartChild.js'), String(port), root, PACKAGE_DIR],
    {
      cwd: PACKAGE_DIR,
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
