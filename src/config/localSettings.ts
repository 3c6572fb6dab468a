import fs from 'node:fs';
import path from 'node:path';

export interface LocalSettingsFile {
  Values?: Record<string, string>;
  Host?: { LocalHttpPort?: number };
}

/**
 * Core Tools semantics for local.settings.json: when the file is missing, `npm start` copies the
 * sample; its Values fill the environment, and variables already set win over the file.
 */
export function ensureLocalSettings(root: string): string {
  const target = path.join(root, 'local.settings.json');
  if (!fs.existsSync(target)) {
    // Owner-only from the first byte: it will hold the rotated refresh token.
    fs.writeFileSync(target, fs.readFileSync(path.join(root, 'local.settings.sample.json')), {
      mode: NEW_FILE_MODE,
      flag: 'wx',
    });
  }
  return target;
}

/** Mode of a local.settings.json this app creates: it holds secrets, so owner read/write only. */
export const NEW_FILE_MODE = 0o600;

/**
 * Replaces the file's contents atomically (a temp file beside it, then rename), so a reader never
 * sees half a file, and keeps the file's mode (a 600 file stays 600); a new file gets 600.
 */
export function writeLocalSettings(file: string, json: unknown): void {
  let mode = NEW_FILE_MODE;
  try {
    mode = fs.statSync(file).mode & 0o777;
  } catch {
    // No file yet: the owner-only default.
  }
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(temp, 'wx', mode);
  try {
    // The umask may have narrowed the mode at open; set it exactly.
    fs.fchmodSync(fd, mode);
    fs.writeFileSync(fd, `${JSON.stringify(json, null, 2)}\n`);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

export function readLocalSettings(file: string): LocalSettingsFile {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as LocalSettingsFile;
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Copies Values into env where env has no value yet; returns the names it set. */
export function applyLocalSettings(
  values: Record<string, string> | undefined,
  env: NodeJS.ProcessEnv,
): string[] {
  const applied: string[] = [];
  for (const [name, value] of Object.entries(values ?? {})) {
    if (env[name] === undefined) {
      env[name] = String(value);
      applied.push(name);
    }
  }
  return applied;
}
