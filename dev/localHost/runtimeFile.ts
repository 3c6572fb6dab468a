import fs from 'node:fs';
import path from 'node:path';

/**
 * What a running `npm start` tells the other commands of the README (`npm run snapshot`) about
 * itself: where its Azurite listens, whatever ports it got. Written beside the settings file it
 * read, owner-only, removed when it stops; a file left by a killed `npm start` is ignored because
 * its pid is gone.
 */
export interface NpmStartRuntime {
  pid: number;
  settingsFile: string;
  tableEndpoint: string;
  queueEndpoint: string;
  /** Azurite's development-account connection string for both endpoints. */
  storageConnectionString: string;
}

export function runtimeFilePath(settingsFile: string): string {
  return path.join(path.dirname(settingsFile), '.npm-start.json');
}

export function writeRuntimeFile(runtime: NpmStartRuntime): void {
  const file = runtimeFilePath(runtime.settingsFile);
  const temporary = `${file}.${runtime.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(runtime, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** Removes the file if it is still this process's (a newer `npm start` may have replaced it). */
export function removeRuntimeFile(settingsFile: string, pid: number): void {
  const file = runtimeFilePath(settingsFile);
  try {
    if ((JSON.parse(fs.readFileSync(file, 'utf8')) as NpmStartRuntime).pid === pid) fs.rmSync(file);
  } catch {
    // Already gone or unreadable: nothing of ours to remove.
  }
}

/** The runtime of an `npm start` that read `settingsFile` and is still alive, if any. */
export function liveRuntime(settingsFile: string): NpmStartRuntime | undefined {
  let runtime: NpmStartRuntime;
  try {
    runtime = JSON.parse(fs.readFileSync(runtimeFilePath(settingsFile), 'utf8')) as NpmStartRuntime;
  } catch {
    return undefined;
  }
  if (path.resolve(runtime.settingsFile) !== path.resolve(settingsFile) || !isAlive(runtime.pid))
    return undefined;
  return runtime;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const DEVELOPMENT_STORAGE = /^UseDevelopmentStorage=true;?$/i;

/** The storage settings that point at development storage (`UseDevelopmentStorage=true`). */
export const DEVELOPMENT_STORAGE_SETTINGS = ['STORAGE_CONNECTION_STRING', 'QUEUE_STORAGE'] as const;

export function isDevelopmentStorage(value: string | undefined): boolean {
  return DEVELOPMENT_STORAGE.test((value ?? '').trim());
}

/**
 * Points every `UseDevelopmentStorage=true` setting of `env` at the Azurite of the running
 * `npm start` that read the same settings file. Returns that runtime, or undefined when no
 * `npm start` is running (the settings then mean Azurite's default ports, as everywhere else).
 */
export function useRunningAzurite(env: NodeJS.ProcessEnv, settingsFile: string): NpmStartRuntime | undefined {
  const runtime = liveRuntime(settingsFile);
  if (!runtime) return undefined;
  for (const name of DEVELOPMENT_STORAGE_SETTINGS)
    if (isDevelopmentStorage(env[name])) env[name] = runtime.storageConnectionString;
  return runtime;
}
