import type { Scenario } from '../harness';
import { cachedReads } from './cachedReads';
import { coldStart } from './coldStart';
import { pacing } from './pacing';
import { readsDuringSnapshot } from './readsDuringSnapshot';
import { scale } from './scale';
import { usageExport } from './usageExport';

/** Every scenario, in the order `npm run bench` runs them. */
export const SCENARIOS: Array<Scenario<never>> = [
  coldStart,
  pacing,
  scale,
  cachedReads,
  readsDuringSnapshot,
  usageExport,
] as Array<Scenario<never>>;
