import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A scenario measures one thing and, where it compares, both sides in the same run: the
 * machines are shared and noisy, so ratios measured side by side are the figures to quote.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The target this figure is held against, e.g. "<= 1.5"; reported, never asserted. */
  target?: string;
  met?: boolean;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  parameters: object;
  figures: Figure[];
  notes?: string[];
  /** When this scenario ran (set by bench/run.ts; results merged from an earlier run keep theirs). */
  takenAt?: string;
}

export interface Scenario<P> {
  name: string;
  description: string;
  /** Full-size parameters for `npm run bench`. */
  full: P;
  /** Tiny parameters for the smoke test in `npm test`, so the harness cannot rot. */
  smoke: P;
  run(params: P, log: (line: string) => void): Promise<ScenarioResult>;
}

export function machine(): Record<string, unknown> {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function formatTable(results: ScenarioResult[]): string {
  const rows: string[][] = [['scenario', 'figure', 'value', 'unit', 'target', 'met']];
  for (const r of results) {
    for (const f of r.figures) {
      rows.push([
        r.scenario,
        f.name,
        formatNumber(f.value),
        f.unit,
        f.target ?? '',
        f.met === undefined ? '' : f.met ? 'yes' : 'NO',
      ]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
}

/** A figure's value as the tables print it: integers as they are, else 3 significant-ish digits. */
export function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 1
      ? value.toFixed(2)
      : value.toFixed(3);
}

/** The results of `latest.json` in `dir` (each with its takenAt), or none when there is no such file. */
export function readLatestResults(dir: string): ScenarioResult[] {
  const file = path.join(dir, 'latest.json');
  if (!fs.existsSync(file)) return [];
  const payload = JSON.parse(fs.readFileSync(file, 'utf8')) as { takenAt: string; results: ScenarioResult[] };
  return payload.results.map((r) => ({ ...r, takenAt: r.takenAt ?? payload.takenAt }));
}

export function writeResults(dir: string, results: ScenarioResult[]): string {
  fs.mkdirSync(dir, { recursive: true });
  const payload = { takenAt: new Date().toISOString(), machine: machine(), results };
  const stamp = payload.takenAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `bench-${stamp}.json`);
  fs.writeFileSync(file, `${JSON.stringify(payload, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(payload, null, 2)}\n`);
  return file;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function ratio(a: number, b: number): number {
  return b === 0 ? NaN : a / b;
}

/** The repository root, whether running from bench/ (jest) or from the compiled dist-bench/. */
export function repoRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (
      fs.existsSync(manifest) &&
      (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'partner-usage-cache'
    ) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('repository root not found');
    dir = parent;
  }
}

/** `{ target, met }` for a figure that must reach `limit`. */
export function atLeast(value: number, limit: number): Pick<Figure, 'target' | 'met'> {
  return { target: `>= ${limit}`, met: value >= limit };
}

/** `{ target, met }` for a figure that must not exceed `limit`. */
export function atMost(value: number, limit: number): Pick<Figure, 'target' | 'met'> {
  return { target: `<= ${limit}`, met: value <= limit };
}

/** `{ target, met }` for a figure that must stay under `limit`. */
export function below(value: number, limit: number): Pick<Figure, 'target' | 'met'> {
  return { target: `< ${limit}`, met: value < limit };
}

/**
 * A memory field of /proc/<pid>/status in MiB: `VmRSS` (now) or `VmHWM` (peak resident set).
 * NaN where /proc is not available (not Linux) or the process is gone.
 */
export function procMemoryMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat; NaN elsewhere. */
export function procCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100; // USER_HZ, 100 on the Linux builds Node supports
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/** The machine's CPU counters so far (all cores, /proc/stat's first line): busy and total jiffies. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const [, ...fields] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.reduce((s, x) => s + x, 0);
    // idle and iowait are the 4th and 5th; steal (8th) is time another tenant had: not ours, not idle.
    return { busy: total - n[3] - n[4], total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** How many cores were busy on average between two machineCpu() readings (NaN without /proc). */
export function coresBusy(
  from: { busy: number; total: number },
  to: { busy: number; total: number },
): number {
  return ((to.busy - from.busy) / (to.total - from.total)) * os.cpus().length;
}
