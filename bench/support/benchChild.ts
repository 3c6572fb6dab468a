import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { repoRoot } from '../harness';

/** A child process that speaks the bench protocol: `BENCH {json}` lines out, command lines in. */
export interface BenchChild {
  pid: number;
  /** The next message (in arrival order) that `accept` takes; rejects when the child exits first or after `timeoutMs`. */
  next<T = Record<string, unknown>>(accept: (message: T) => boolean, timeoutMs: number): Promise<T>;
  /** Writes one command line to the child's stdin. */
  command(line: string): void;
  /** The last lines the child wrote to stderr, for error messages. */
  stderrTail(): string;
  /** Kills the child (SIGKILL) unless it already exited; resolves when it has. */
  stop(): Promise<void>;
}

export function startBenchChild(script: string, args: string[], env: Record<string, string>): BenchChild {
  const root = repoRoot();
  const child = spawn(process.execPath, [script, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const queue: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let exited: string | undefined;
  const stderr: string[] = [];
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('BENCH ')) return;
    queue.push(JSON.parse(line.slice(6)) as Record<string, unknown>);
    for (const wake of waiters) wake();
  });
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 20) stderr.shift();
  });
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${code ?? signal}`;
      for (const wake of waiters) wake();
      resolve();
    }),
  );

  return {
    pid: child.pid as number,
    next<T>(accept: (message: T) => boolean, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const index = queue.findIndex((m) => accept(m as T));
          if (index >= 0) {
            done();
            resolve(queue.splice(index, 1)[0] as T);
          } else if (exited) {
            done();
            reject(new Error(`bench child ${exited}: ${stderr.join('\n')}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`bench child: no expected message within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    command(line) {
      child.stdin.write(`${line}\n`);
    },
    stderrTail: () => stderr.join('\n'),
    async stop() {
      if (exited === undefined) child.kill('SIGKILL');
      await exit;
    },
  };
}
