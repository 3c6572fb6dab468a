import fc from 'fast-check';
import { addDecimals, compareDecimal } from '../../src/domain/decimal';

describe('addDecimals', () => {
  test.each([
    [[], '0'],
    [['0.1', '0.2'], '0.3'],
    [['0.1', '0.20'], '0.30'],
    [['120.5682999999995904716', '0.0000000000004095284'], '120.5683000000000000000'],
    [['28.82860766744404945074', '-28.82860766744404945074'], '0.00000000000000000000'],
    [['-1.5', '0.25'], '-1.25'],
    [['1e3', '2.5E-2'], '1000.025'],
    [['7', '+3'], '10'],
    [['.5', '5.'], '5.5'],
  ])('when %j are added, then %s', (values, sum) => {
    expect(addDecimals(values)).toBe(sum);
  });

  test('when a value is not a decimal, then a RangeError names it', () => {
    expect(() => addDecimals(['1', 'NaN'])).toThrow(RangeError);
    expect(() => addDecimals(['1', ''])).toThrow('"" is not a decimal number');
  });

  test('when any decimals are added, then the sum equals the sum of their scaled integers, in any order', () => {
    const decimal = fc
      .tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 25 }))
      .map(([digits, scale]) => {
        const text = (digits < 0n ? -digits : digits).toString().padStart(scale + 1, '0');
        const plain = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
        return { value: `${digits < 0n ? '-' : ''}${plain}`, digits, scale };
      });
    fc.assert(
      fc.property(fc.array(decimal, { maxLength: 30 }), (terms) => {
        const scale = Math.max(0, ...terms.map((t) => t.scale));
        const expected = terms.reduce((s, t) => s + t.digits * 10n ** BigInt(scale - t.scale), 0n);
        const sum = addDecimals(terms.map((t) => t.value));
        const reversed = addDecimals(terms.map((t) => t.value).reverse());
        expect(sum).toBe(reversed);
        const fraction = sum.split('.')[1] ?? '';
        expect(fraction.length).toBe(scale);
        expect(BigInt(sum.replace('.', ''))).toBe(expected);
        expect(compareDecimal(sum, `${expected}e-${scale}`)).toBe(0);
      }),
    );
  });
});
