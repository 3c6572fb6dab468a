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
    fs.copyFileSync(path.join(root, 'local.settings.sample.json'), target);
  }
  return target;
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
