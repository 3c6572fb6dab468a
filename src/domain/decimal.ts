import type { Decimal } from './usage';

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** An exact decimal as digits × 10^exponent; undefined when the text is not a decimal number. */
function parse(value: Decimal): { digits: bigint; exponent: number } | undefined {
  const m = DECIMAL.exec(value.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const fraction = m[3] ?? '';
  const digits = BigInt(`${m[1] === '-' ? '-' : ''}${m[2] || '0'}${fraction}`);
  return { digits, exponent: Number(m[4] ?? '0') - fraction.length };
}

/**
 * Compares two decimal strings exactly (no floating point): -1, 0 or 1; undefined when either
 * is not a number.
 */
export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 | undefined {
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return undefined;
  const exponent = Math.min(x.exponent, y.exponent);
  const left = x.digits * 10n ** BigInt(x.exponent - exponent);
  const right = y.digits * 10n ** BigInt(y.exponent - exponent);
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The exact sum of decimal strings (no floating point), as plain decimal text with as many
 * fraction digits as the most precise term: ["0.10", "0.2"] → "0.30". The sum of nothing is "0".
 * Throws on a term that is not a decimal number, so a bad amount is never summed as zero.
 */
export function sumDecimals(values: Iterable<Decimal>): Decimal {
  let digits = 0n;
  let exponent = 0;
  for (const value of values) {
    const term = parse(value);
    if (!term) throw new RangeError(`${JSON.stringify(value)} is not a decimal number`);
    const common = Math.min(exponent, term.exponent);
    digits = digits * 10n ** BigInt(exponent - common) + term.digits * 10n ** BigInt(term.exponent - common);
    exponent = common;
  }
  const negative = digits < 0n;
  const text = (negative ? -digits : digits).toString();
  const scale = -exponent;
  const whole = scale === 0 ? text : text.padStart(scale + 1, '0');
  const body = scale === 0 ? whole : `${whole.slice(0, -scale)}.${whole.slice(-scale)}`;
  return negative ? `-${body}` : body;
}
