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

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100
    ? value.toFixed(0)
    : Math.abs(value) >= 1
      ? value.toFixed(2)
      : value.toFixed(3);
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
