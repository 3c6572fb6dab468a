/**
 * Exact decimal text ("2536.855431853967679378", "-0.5", "12") as an integer count of 10^-scale
 * units, so sums and comparisons of money stay exact. Throws on anything else, or on non-zero
 * digits beyond `scale`.
 */
export function scaledDecimal(text: string, scale = 18): bigint {
  const match = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new Error(`not a decimal: ${text}`);
  const fraction = match[3] ?? '';
  if (/[^0]/.test(fraction.slice(scale))) throw new Error(`more than ${scale} decimals: ${text}`);
  const value = BigInt(match[2] + fraction.slice(0, scale).padEnd(scale, '0'));
  return match[1] ? -value : value;
}
