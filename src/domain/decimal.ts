import type { Decimal } from './usage';

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const PLAIN = /^-?\d+(?:\.\d+)?$/;

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
 * The exact sum of decimal strings (no floating point), written without exponent and with as many
 * fraction digits as the most precise term: ["0.1", "0.20"] → "0.30", [] → "0". Throws a
 * RangeError naming the first value that is not a decimal number.
 */
export function addDecimals(values: readonly Decimal[]): Decimal {
  let sum = 0n;
  let exponent = 0;
  for (const value of values) {
    const term = parse(value);
    if (!term) throw new RangeError(`${JSON.stringify(value.slice(0, 40))} is not a decimal number`);
    if (term.exponent < exponent) {
      sum *= 10n ** BigInt(exponent - term.exponent);
      exponent = term.exponent;
    }
    sum += term.digits * 10n ** BigInt(term.exponent - exponent);
  }
  return format(sum, exponent);
}

/** digits × 10^exponent as plain decimal text: "-12.340" for (-12340n, -3). */
function format(digits: bigint, exponent: number): Decimal {
  const negative = digits < 0n;
  const text = (negative ? -digits : digits).toString();
  if (exponent >= 0) return `${negative ? '-' : ''}${text}${'0'.repeat(exponent)}`.replace(/^-0+$/, '0');
  const scale = -exponent;
  const padded = text.padStart(scale + 1, '0');
  const whole = padded.slice(0, padded.length - scale);
  const fraction = padded.slice(padded.length - scale);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/**
 * A running exact sum of decimal strings: digits × 10^exponent in a BigInt, aligned to the finest
 * exponent seen, so no amount loses a digit however many are added.
 */
export class DecimalSum {
  private digits = 0n;
  private exponent = 0;

  /** Adds `value`; false (and nothing added) when it is not a decimal number. */
  add(value: Decimal): boolean {
    // Fast path for plain decimals ("-12.50"), the form amounts take on the wire: no regex.
    if (PLAIN.test(value)) {
      const point = value.indexOf('.');
      if (point === -1) this.addParts(BigInt(value), 0);
      else this.addParts(BigInt(value.slice(0, point) + value.slice(point + 1)), point + 1 - value.length);
      return true;
    }
    const parsed = parse(value);
    if (!parsed) return false;
    this.addParts(parsed.digits, parsed.exponent);
    return true;
  }

  /** Adds another sum's value. */
  addSum(other: DecimalSum): void {
    this.addParts(other.digits, other.exponent);
  }

  private addParts(digits: bigint, exponent: number): void {
    if (exponent < this.exponent) {
      this.digits = this.digits * 10n ** BigInt(this.exponent - exponent) + digits;
      this.exponent = exponent;
    } else {
      this.digits += exponent > this.exponent ? digits * 10n ** BigInt(exponent - this.exponent) : digits;
    }
  }

  /** The sum as plain decimal text, without trailing fraction zeros ("12.5", "-0.0001", "0"). */
  toString(): Decimal {
    if (this.exponent >= 0) return (this.digits * 10n ** BigInt(this.exponent)).toString();
    const negative = this.digits < 0n;
    const text = (negative ? -this.digits : this.digits).toString().padStart(1 - this.exponent, '0');
    const cut = text.length + this.exponent;
    const fraction = text.slice(cut).replace(/0+$/, '');
    const whole = text.slice(0, cut);
    const body = fraction === '' ? whole : `${whole}.${fraction}`;
    return negative && body !== '0' ? `-${body}` : body;
  }
}

/** `a - b`, exactly; throws when either is not a decimal number. */
export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  const negated = b.trim().startsWith('-') ? b.trim().slice(1) : `-${b.trim().replace(/^\+/, '')}`;
  const sum = new DecimalSum();
  for (const value of [a, negated])
    if (!sum.add(value)) throw new Error(`"${value}" is not a decimal number`);
  return sum.toString();
}
