// Partner Center writes costs such as 120.5682999999995904716: more significant digits than an
// IEEE double keeps. The sandbox keeps every amount as a bigint count of 10^-18 units and writes
// the digits straight into the JSON text, so no double ever touches them.

/** Fractional digits of every amount the sandbox computes. */
export const MONEY_SCALE = 18;
export const ONE = 10n ** BigInt(MONEY_SCALE);

/** Decimal text of `value / 10^scale`, trailing zeros dropped ("0" for zero). */
export function formatDecimal(value: bigint, scale = MONEY_SCALE): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** floor(a * b / c) for non-negative operands. */
export function mulDiv(a: bigint, b: bigint, c: bigint): bigint {
  return (a * b) / c;
}

/**
 * `amount / budget` as a percentage rounded half-up to two decimals, as in "602.84". The budget
 * is a whole or decimal amount (a PATCHed budget may have cents) of at most 15 significant digits.
 */
export function percentOf(amount: bigint, budget: number): string {
  if (budget <= 0) return '0';
  const units = parseDecimal(budget.toFixed(6));
  const hundredths = (amount * 10_000n * 2n + units) / (units * 2n);
  return formatDecimal(hundredths, 2);
}

/** Decimal text (non-negative, no exponent) to an exact count of 10^-scale units; digits past the scale are cut. */
export function parseDecimal(text: string, scale = MONEY_SCALE): bigint {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`not a plain decimal: ${text}`);
  return BigInt(match[1] + (match[2] ?? '').padEnd(scale, '0').slice(0, scale));
}

/**
 * Splits `total` in proportion to `weights`, exactly: every share is floored and the last takes
 * the remainder, so the shares always sum to `total` to the last unit.
 */
export function splitByWeight(total: bigint, weights: readonly number[]): bigint[] {
  const totalWeight = BigInt(weights.reduce((sum, w) => sum + w, 0));
  let assigned = 0n;
  return weights.map((weight, i) => {
    const share = i === weights.length - 1 ? total - assigned : mulDiv(total, BigInt(weight), totalWeight);
    assigned += share;
    return share;
  });
}
