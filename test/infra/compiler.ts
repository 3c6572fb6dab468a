import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The real Bicep compiler, as the infra tests use it: `bicep build`, `bicep lint`, and `bicep snapshot`,
 * which runs the ARM template engine offline over main.bicep with given parameters and returns every
 * resource the deployment would create, with conditions, loops, modules and expressions evaluated.
 */

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const MAIN_BICEP = path.join(REPO_ROOT, 'infra/main.bicep');
export const PINNED_BICEP = path.join(REPO_ROOT, '.tools/bicep/bicep');
export const INSTALL_HINT =
  'run `bash scripts/install-bicep.sh` (npm test runs it first, through pretest), or set BICEP_PATH to a bicep you have';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The compiler to run: BICEP_PATH, else the pinned one scripts/install-bicep.sh restores, else a
 * `bicep` on PATH. Throws, saying how to get one, when there is none: the infra check is never skipped.
 */
export function findBicep(
  env: NodeJS.ProcessEnv = process.env,
  pinned: string = PINNED_BICEP,
): { path: string; source: 'BICEP_PATH' | 'pinned' | 'PATH' } {
  if (env.BICEP_PATH) {
    if (!executable(env.BICEP_PATH)) throw new Error(`BICEP_PATH=${env.BICEP_PATH} is not an executable`);
    return { path: env.BICEP_PATH, source: 'BICEP_PATH' };
  }
  if (executable(pinned)) return { path: pinned, source: 'pinned' };
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, 'bicep');
    if (executable(candidate)) return { path: candidate, source: 'PATH' };
  }
  throw new Error(`No Bicep compiler found: ${INSTALL_HINT}`);
}

export interface Diagnostic {
  file: string;
  line: number;
  column: number;
  level: 'Error' | 'Warning' | 'Info';
  code: string;
  message: string;
}

const DIAGNOSTIC = /^(.+)\((\d+),(\d+)\) : (Error|Warning|Info) ([\w-]+): (.*)$/;

/** Compiler diagnostics in its output, each with a repository-relative file. */
export function parseDiagnostics(output: string): Diagnostic[] {
  return output.split('\n').flatMap((line) => {
    const m = DIAGNOSTIC.exec(line.trim());
    if (!m) return [];
    return [
      {
        file: path.relative(REPO_ROOT, m[1]).split(path.sep).join('/'),
        line: Number(m[2]),
        column: Number(m[3]),
        level: m[4] as Diagnostic['level'],
        code: m[5],
        message: m[6],
      },
    ];
  });
}

export const describeDiagnostic = (d: Diagnostic): string =>
  `${d.file}:${d.line}:${d.column} ${d.level} ${d.code}: ${d.message}`;

export interface BicepRun {
  status: number | null;
  stdout: string;
  stderr: string;
  diagnostics: Diagnostic[];
}

export function runBicep(args: string[]): BicepRun {
  const result = spawnSync(findBicep().path, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', BICEP_TRACING_ENABLED: 'false' },
  });
  if (result.error) throw result.error;
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    diagnostics: parseDiagnostics(`${result.stdout}\n${result.stderr}`),
  };
}

function withTempDir<T>(use: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bicep-'));
  try {
    return use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ArmTemplate {
  $schema: string;
  parameters: Record<string, { type: string; defaultValue?: unknown; allowedValues?: unknown[] } & object>;
  variables?: Record<string, unknown>;
  resources: Record<string, unknown> | unknown[];
  outputs: Record<string, { type: string; value: unknown }>;
}

let built: { template: ArmTemplate; run: BicepRun } | undefined;

/** `bicep build infra/main.bicep` into a temporary folder, once per test worker. */
export function buildMain(): { template: ArmTemplate; run: BicepRun } {
  if (built) return built;
  built = withTempDir((dir) => {
    const run = runBicep(['build', MAIN_BICEP, '--outdir', dir]);
    if (run.status !== 0) throw new Error(`bicep build failed:\n${run.stderr}`);
    return { template: JSON.parse(readFileSync(path.join(dir, 'main.json'), 'utf8')) as ArmTemplate, run };
  });
  return built;
}

export interface PredictedResource {
  id: string;
  type: string;
  name: string;
  apiVersion: string;
  location?: string;
  kind?: string;
  sku?: { name?: string; tier?: string };
  tags?: Record<string, string>;
  identity?: { type: string; userAssignedIdentities?: Record<string, unknown> };
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Snapshot {
  resources: PredictedResource[];
  outputs: Record<string, unknown>;
  /** Every resource of a type (case-insensitive). */
  ofType(type: string): PredictedResource[];
  /** The one resource of a type; throws when there are none or several. */
  only(type: string): PredictedResource;
}

export type ParamValue = string | number | boolean;

/** What a deployment needs at least; the same values azd would pass for a fresh environment. */
export const REQUIRED_PARAMS: Record<string, ParamValue> = {
  environmentName: 'test',
  location: 'westeurope',
  partnerCenterTenantId: '11111111-1111-1111-1111-111111111111',
  partnerCenterClientId: '22222222-2222-2222-2222-222222222222',
};
export const SUBSCRIPTION_ID = '33333333-3333-3333-3333-333333333333';
export const TENANT_ID = '44444444-4444-4444-4444-444444444444';

const literal = (value: ParamValue): string =>
  typeof value === 'string' ? `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(value);

export class SnapshotFailed extends Error {}

const snapshots = new Map<string, Snapshot>();

/**
 * Runs `bicep snapshot` over main.bicep with REQUIRED_PARAMS plus `params`. Throws SnapshotFailed with
 * the engine's message when ARM would reject the deployment (for example a fail() that fires).
 */
export function snapshot(params: Record<string, ParamValue> = {}): Snapshot {
  const all = { ...REQUIRED_PARAMS, ...params };
  const key = JSON.stringify(all);
  const cached = snapshots.get(key);
  if (cached) return cached;
  const result = withTempDir((dir) => {
    const file = path.join(dir, 'test.bicepparam');
    const lines = [
      `using ${literal(path.relative(dir, MAIN_BICEP).split(path.sep).join('/'))}`,
      ...Object.entries(all).map(([n, v]) => `param ${n} = ${literal(v)}`),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const run = runBicep([
      'snapshot',
      file,
      '--subscription-id',
      SUBSCRIPTION_ID,
      '--tenant-id',
      TENANT_ID,
      '--location',
      String(all.location),
      '--config',
      path.join(REPO_ROOT, 'bicepconfig.json'),
    ]);
    if (run.status !== 0) throw new SnapshotFailed(`${run.stdout}\n${run.stderr}`.trim());
    return JSON.parse(readFileSync(path.join(dir, 'test.snapshot.json'), 'utf8')) as {
      predictedResources: PredictedResource[];
      outputs: Record<string, unknown>;
    };
  });
  const resources = result.predictedResources;
  const ofType = (type: string) => resources.filter((r) => r.type.toLowerCase() === type.toLowerCase());
  const made: Snapshot = {
    resources,
    outputs: result.outputs,
    ofType,
    only(type) {
      const found = ofType(type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0];
    },
  };
  snapshots.set(key, made);
  return made;
}

/** The message ARM rejects the deployment with, or throws when the deployment would go through. */
export function snapshotFailure(params: Record<string, ParamValue>): string {
  try {
    snapshot(params);
  } catch (error) {
    if (error instanceof SnapshotFailed) return error.message;
    throw error;
  }
  throw new Error(`the deployment went through with ${JSON.stringify(params)}`);
}

/** Reads a dotted path (`properties.siteConfig.minTlsVersion`) out of a value; undefined if absent. */
export function at(value: unknown, dotted: string): unknown {
  let current: unknown = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
