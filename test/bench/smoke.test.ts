import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatTable, writeResults } from '../../bench/harness';
import { SCENARIOS } from '../../bench/scenarios';

// Each benchmark scenario at its smallest, so the harness cannot rot; no figure is asserted
// against a target here (speed targets live in `npm run bench`, never in timed tests).
jest.setTimeout(120_000);

test.each(SCENARIOS.map((s) => [s.name, s] as const))(
  'when the %s scenario runs at smoke size, then it reports figures',
  async (_name, scenario) => {
    const lines: string[] = [];
    const result = await scenario.run(scenario.smoke, (line) => lines.push(line));
    expect(result.scenario).toBe(scenario.name);
    expect(result.figures.length).toBeGreaterThan(0);
    for (const figure of result.figures) expect(Number.isFinite(figure.value)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
    const file = writeResults(dir, [result]);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).results[0].scenario).toBe(scenario.name);
    const table = formatTable([result]);
    expect(table).toContain(scenario.name);
    if (process.env.BENCH_SMOKE_VERBOSE) console.log([...lines, table, ...(result.notes ?? [])].join('\n'));
  },
);
