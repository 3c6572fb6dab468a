import type { Scenario } from '../harness';
import { coldStart } from './coldStart';

/** Every scenario, in the order `npm run bench` runs them. */
export const SCENARIOS: Array<Scenario<never>> = [coldStart as Scenario<never>];
