import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { procMemoryMiB, repoRoot } from '../harness';
import { benchAppEnv, deployedNodeOptions } from './appEnv';
import { startBenchChild } from './benchChild';

export interface ApiServer {
  url: string;
  pid: number;
  functionKey: string;
  masterKey: string;
  /** Resident set of the server process now, MiB. */
  rssMiB(): number;
  /** What the server itself has seen so far (requests, their server-side times, event-loop delay). */
  stats(): Promise<ServerStats>;
  close(): Promise<void>;
}

/** Counted by bench/scenarios/apiServerChild.js since it started. */
export interface ServerStats {
  received: number;
  answered: number;
  /** Requests whose connection closed before their answer was finished (the client gave up). */
  abandoned: number;
  inFlight: number;
  maxInFlight: number;
  /** Answered requests by whole milliseconds from the server's 'request' event to the last byte written. */
  durations: Record<string, number>;
  eventLoopDelayMs: { p99: number; max: number };
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
    NODE_OPTIONS: deployedNodeOptions(),
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
      stats: async () => {
        child.command('stats');
        return (await child.next<{ stats?: ServerStats }>((m) => m.stats !== undefined, 30_000))
          .stats as ServerStats;
      },
      close: () => child.stop(),
    };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
