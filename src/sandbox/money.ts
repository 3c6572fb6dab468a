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

/** `amount / budget` as a percentage rounded half-up to two decimals, as in "602.84". */
export function percentOf(amount: bigint, budgetWhole: number): string {
  if (budgetWhole <= 0) return '0';
  const hundredths = (amount * 10_000n * 2n + BigInt(budgetWhole) * ONE) / (BigInt(budgetWhole) * ONE * 2n);
  return formatDecimal(hundredths, 2);
}

/** Whole units to scaled units. */
export function whole(units: number): bigint {
  return BigInt(units) * ONE;
}
