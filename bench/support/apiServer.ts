import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { procMemoryMiB, repoRoot } from '../harness';
import { benchAppEnv } from './appEnv';
import { startBenchChild } from './benchChild';

export interface ApiServer {
  url: string;
  pid: number;
  functionKey: string;
  masterKey: string;
  /** Resident set of the server process now, MiB. */
  rssMiB(): number;
  close(): Promise<void>;
}

/**
 * The built app's HTTP API in its own process (bench/scenarios/apiServerChild.js), reading the
 * tables `tablePrefix` names in the Azurite behind `connectionString`.
 */
export async function startApiServer(connectionString: string, tablePrefix: string): Promise<ApiServer> {
  const functionKey = randomBytes(16).toString('hex');
  const masterKey = randomBytes(16).toString('hex');
  const child = startBenchChild(path.join(repoRoot(), 'bench/scenarios/apiServerChild.js'), [repoRoot()], {
    ...benchAppEnv(connectionString),
    TABLE_NAME_PREFIX: tablePrefix,
    BENCH_FUNCTION_KEY: functionKey,
    BENCH_MASTER_KEY: masterKey,
  });
  try {
    const { url } = await child.next<{ listening?: boolean; url: string }>(
      (m) => m.listening === true,
      30_000,
    );
    return {
      url,
      pid: child.pid,
      functionKey,
      masterKey,
      rssMiB: () => procMemoryMiB(child.pid, 'VmRSS'),
      close: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
