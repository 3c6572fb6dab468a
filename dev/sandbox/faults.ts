import { Rng } from './prng';

export const FAULT_KINDS = ['status500', 'status503', 'reset', 'truncated', 'malformed', 'slowBody'] as const;

/**
 * status500/status503: an error answer; reset: the connection is dropped before any byte;
 * truncated: headers promise the whole body, half arrives, the connection closes; malformed: a
 * complete response whose body is not JSON; slowBody: headers and a quarter of the body, then a
 * stall of `slowBodyMs` before the rest.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSettings extends Record<FaultKind, number> {
  slowBodyMs: number;
  /** Added before every Partner Center answer. */
  latencyMs: number;
  /** Uniform extra latency in [0, latencyJitterMs]. */
  latencyJitterMs: number;
}

export const NO_FAULTS: FaultSettings = {
  status500: 0,
  status503: 0,
  reset: 0,
  truncated: 0,
  malformed: 0,
  slowBody: 0,
  slowBodyMs: 2000,
  latencyMs: 0,
  latencyJitterMs: 0,
};

export interface FaultDecision {
  fault: FaultKind | undefined;
  delayMs: number;
}

/**
 * Decides faults and latency from the seed and the request's sequence number, so a run with the
 * same seed and the same order of calls meets the same faults.
 */
export class FaultPlan {
  private current: FaultSettings;

  constructor(
    private readonly seed: number,
    settings: Partial<FaultSettings>,
  ) {
    this.current = validate({ ...NO_FAULTS, ...settings });
  }

  get settings(): FaultSettings {
    return { ...this.current };
  }

  set(settings: Partial<FaultSettings>): void {
    this.current = validate({ ...this.current, ...settings });
  }

  decide(sequence: number): FaultDecision {
    const rng = Rng.of(this.seed, 'faults', sequence);
    const roll = rng.next();
    let cumulative = 0;
    let fault: FaultKind | undefined;
    for (const kind of FAULT_KINDS) {
      cumulative += this.current[kind];
      if (roll < cumulative) {
        fault = kind;
        break;
      }
    }
    const jitter = this.current.latencyJitterMs > 0 ? rng.int(0, this.current.latencyJitterMs) : 0;
    return { fault, delayMs: this.current.latencyMs + jitter };
  }
}

function validate(settings: FaultSettings): FaultSettings {
  const total = FAULT_KINDS.reduce((sum, kind) => sum + settings[kind], 0);
  for (const kind of FAULT_KINDS) {
    if (!(settings[kind] >= 0 && settings[kind] <= 1))
      throw new Error(`fault rate ${kind} must be in [0, 1]`);
  }
  if (total > 1 + 1e-9) throw new Error(`fault rates add up to ${total}, more than 1`);
  for (const key of ['slowBodyMs', 'latencyMs', 'latencyJitterMs'] as const) {
    if (!(settings[key] >= 0)) throw new Error(`${key} must be 0 or more`);
  }
  return settings;
}
