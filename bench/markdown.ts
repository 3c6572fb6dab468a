import fs from 'node:fs';
import path from 'node:path';
import { formatNumber, repoRoot, type ScenarioResult } from './harness';

/**
 * `node dist-bench/bench/markdown.js [file]`: the figures of a results file (default
 * bench/results/latest.json) as a Markdown table with the machine line, for docs/performance.md.
 */
function main(): void {
  const file = process.argv[2] ?? path.join(repoRoot(), 'bench', 'results', 'latest.json');
  const payload = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    takenAt: string;
    machine: Record<string, unknown>;
    results: ScenarioResult[];
  };
  const m = payload.machine;
  const lines = [
    `Taken ${payload.takenAt} on ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}.`,
    '',
    '| scenario | figure | value | unit | target | met |',
    '| --- | --- | --: | --- | --- | --- |',
  ];
  for (const r of payload.results) {
    for (const f of r.figures) {
      const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
      lines.push(
        `| ${r.scenario} | ${f.name} | ${formatNumber(f.value)} | ${f.unit} | ${f.target ?? ''} | ${met} |`,
      );
    }
  }
  console.log(lines.join('\n'));
}

main();
