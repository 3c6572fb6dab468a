// Hand-written seeded randomness (mulberry32 and a murmur3-style mixer) rather than a package:
// the sandbox needs a stream per (seed, entity) so that customer 70,000 can be generated without
// generating the 69,999 before it, and these few lines are all that takes.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of numbers and strings, stable across runs and platforms. */
export function hash32(...parts: (number | string)[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    if (typeof part === 'number') {
      // Whole numbers up to 2^53 mix in as two 32-bit halves; strings go character by character.
      h = fmix32(Math.imul(h ^ (part >>> 0), 0x01000193) ^ Math.floor(part / 4294967296));
      continue;
    }
    for (let i = 0; i < part.length; i++) {
      h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
    }
    h = fmix32(h ^ 0x5bd1e995);
  }
  return h;
}

/** A seeded uniform stream (mulberry32). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Derives an independent stream from any mix of numbers and strings. */
  static of(...parts: (number | string)[]): Rng {
    return new Rng(hash32(...parts));
  }

  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** A random bigint in [0, 10^digits). */
  digits(digits: number): bigint {
    let value = 0n;
    for (let i = 0; i < digits; i += 9) {
      value = value * 1_000_000_000n + BigInt(this.uint32() % 1_000_000_000);
    }
    return value % 10n ** BigInt(digits);
  }

  /** A version-4-shaped GUID, lower case. */
  guid(prefix?: number): string {
    const a = hex(prefix ?? this.uint32());
    const b = hex(this.uint32());
    const c = hex(this.uint32());
    const d = hex(this.uint32());
    const variant = ((parseInt(c[0], 16) & 0x3) | 0x8).toString(16);
    return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${d}`;
  }
}

// Number.prototype.toString(16) is slow for values above 2^31; a byte table is ten times faster.
const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex(n: number): string {
  return BYTE_HEX[n >>> 24] + BYTE_HEX[(n >>> 16) & 0xff] + BYTE_HEX[(n >>> 8) & 0xff] + BYTE_HEX[n & 0xff];
}

/**
 * A keyed bijection on 32-bit integers (a four-round Feistel network). Customer ids start with
 * the permuted customer index, so an id can be mapped back to its customer without a lookup table.
 */
export class Permutation32 {
  private readonly keys: number[];

  constructor(seed: number) {
    this.keys = [0, 1, 2, 3].map((round) => hash32(seed, 'feistel', round));
  }

  private round(half: number, key: number): number {
    return fmix32(half ^ key) & 0xffff;
  }

  forward(x: number): number {
    let left = (x >>> 16) & 0xffff;
    let right = x & 0xffff;
    for (const key of this.keys) {
      [left, right] = [right, left ^ this.round(right, key)];
    }
    return ((left << 16) | right) >>> 0;
  }

  inverse(y: number): number {
    let left = (y >>> 16) & 0xffff;
    let right = y & 0xffff;
    for (const key of [...this.keys].reverse()) {
      [left, right] = [right ^ this.round(left, key), left];
    }
    return ((left << 16) | right) >>> 0;
  }
}
