import type { Scenario } from '../harness';
import { cachedReads } from './cachedReads';
import { coldStart } from './coldStart';
import { incremental } from './incremental';
import { pacing } from './pacing';
import { readsDuringSnapshot } from './readsDuringSnapshot';
import { scale } from './scale';
import { soak } from './soak';
import { usageExport } from './usageExport';

/** Every scenario, in the order `npm run bench` runs them. */
export const SCENARIOS: Array<Scenario<never>> = [
  coldStart,
  pacing,
  scale,
  cachedReads,
  readsDuringSnapshot,
  soak,
  incremental,
  usageExport,
] as Array<Scenario<never>>;
