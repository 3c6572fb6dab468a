import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, machine, repoRoot, writeResults, type ScenarioResult } from './harness';
import { SCENARIOS } from './scenarios';

/** `npm run bench [-- --only name,name] [--smoke]`: runs the scenarios, prints a table, writes JSON. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, smoke: { type: 'boolean', default: false } },
  });
  const only = values.only?.split(',');
  const results: ScenarioResult[] = [];
  console.log(`Machine: ${JSON.stringify(machine())}`);
  for (const scenario of SCENARIOS) {
    if (only && !only.includes(scenario.name)) continue;
    console.log(`\n== ${scenario.name}: ${scenario.description}`);
    const started = Date.now();
    results.push(
      await scenario.run(values.smoke ? scenario.smoke : scenario.full, (line) => console.log(line)),
    );
    console.log(`   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  console.log(`\n${formatTable(results)}`);
  const file = writeResults(path.join(repoRoot(), 'bench', 'results'), results);
  console.log(`\nWritten: ${path.relative(repoRoot(), file)} (and bench/results/latest.json)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
