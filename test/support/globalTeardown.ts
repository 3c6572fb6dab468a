import fs from 'node:fs';
import type { AzuriteTables } from '../../dev/localHost/azurite';
import { scanDirectory } from './secretScan';

/** Stops Azurite, then fails the run if any output of any test carried a secret. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __azurite?: AzuriteTables }).__azurite?.stop();
  const dir = process.env.TEST_OUTPUT_DIR;
  if (!dir) return;
  const { files, bytes, findings } = scanDirectory(dir);
  fs.rmSync(dir, { recursive: true, force: true });
  if (findings.length > 0) {
    const list = findings.map((f) => `  ${f.kind} in ${f.file}:${f.line}`).join('\n');
    throw new Error(`Secret scan: ${findings.length} secret(s) in test output:\n${list}`);
  }
  console.log(`\nSecret scan: ${files} output file(s), ${bytes} characters, no secret found.`);
}
