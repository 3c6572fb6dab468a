import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  formatTable,
  machine,
  readLatestResults,
  repoRoot,
  writeResults,
  type ScenarioResult,
} from './harness';
import { SCENARIOS } from './scenarios';

/**
 * `npm run bench [-- --only name,name] [--smoke] [--merge]`: runs the scenarios, prints a table,
 * writes JSON. `--merge` keeps the other scenarios' results from the current latest.json (each
 * result carries its own takenAt), for re-running one scenario without the 20-minute scale run.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      merge: { type: 'boolean', default: false },
    },
  });
  const only = values.only?.split(',');
  const results: ScenarioResult[] = [];
  console.log(`Machine: ${JSON.stringify(machine())}`);
  for (const scenario of SCENARIOS) {
    if (only && !only.includes(scenario.name)) continue;
    console.log(`\n== ${scenario.name}: ${scenario.description}`);
    const started = Date.now();
    const takenAt = new Date().toISOString();
    const result = await scenario.run(values.smoke ? scenario.smoke : scenario.full, (line) =>
      console.log(line),
    );
    results.push({ ...result, takenAt });
    console.log(`   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  console.log(`\n${formatTable(results)}`);
  const dir = path.join(repoRoot(), 'bench', 'results');
  const ran = new Set(results.map((r) => r.scenario));
  const kept = values.merge ? readLatestResults(dir).filter((r) => !ran.has(r.scenario)) : [];
  const order = SCENARIOS.map((s) => s.name);
  const all = [...kept, ...results].sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  const file = writeResults(dir, all);
  console.log(`\nWritten: ${path.relative(repoRoot(), file)} (and bench/results/latest.json)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
