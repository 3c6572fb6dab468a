import {
  assertEntityWithinLimits,
  entityBytes,
  EntityTooLargeError,
  InvalidKeyError,
  MAX_ENTITY_BYTES,
} from '../../src/storage/tableLimits';
import { errorCode } from '../../src/domain/errors';
import { keyPart } from '../../src/storage/keys';
import { chunkText, readViewRows, viewEntities } from '../../src/storage/viewDocument';
import { compareDecimal } from '../../src/domain/decimal';

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    return errorCode(error);
  }
  return undefined;
};

test('when an entity has PK "ab", RK "c" and one string "xyz", then its size is 4 + 2×3 + (8 + 2×1 + 2×3 + 4) = 30 bytes', () => {
  expect(entityBytes({ partitionKey: 'ab', rowKey: 'c', p: 'xyz' })).toBe(30);
});

test('when an entity has 253 custom properties, then EntityTooLarge; with 252, then accepted', () => {
  const entity = (n: number) => {
    const e: Record<string, unknown> = { partitionKey: 'p', rowKey: 'r' };
    for (let i = 0; i < n; i++) e[`p${i}`] = i;
    return e as { partitionKey: string; rowKey: string };
  };
  expect(codeOf(() => assertEntityWithinLimits(entity(252)))).toBeUndefined();
  expect(codeOf(() => assertEntityWithinLimits(entity(253)))).toBe('EntityTooLarge');
});

test('when a string property has 32,769 chars (over 64 KiB of UTF-16), then EntityTooLarge; 32,768, then accepted', () => {
  expect(
    codeOf(() => assertEntityWithinLimits({ partitionKey: 'p', rowKey: 'r', s: 'x'.repeat(32_768) })),
  ).toBeUndefined();
  expect(
    codeOf(() => assertEntityWithinLimits({ partitionKey: 'p', rowKey: 'r', s: 'x'.repeat(32_769) })),
  ).toBe('EntityTooLarge');
});

test('when an entity totals more than 1 MiB, then EntityTooLarge naming its size', () => {
  const e: Record<string, unknown> = { partitionKey: 'p', rowKey: 'r' };
  for (let i = 0; i < 17; i++) e[`s${i}`] = 'x'.repeat(32_000);
  expect(entityBytes(e as { partitionKey: string; rowKey: string })).toBeGreaterThan(MAX_ENTITY_BYTES);
  expect(() => assertEntityWithinLimits(e as { partitionKey: string; rowKey: string })).toThrow(
    EntityTooLargeError,
  );
});

test.each([
  ['a slash', 'a/b'],
  ['a backslash', 'a\\b'],
  ['a hash', 'a#b'],
  ['a question mark', 'a?b'],
  ['U+0001', 'a\u0001b'],
  ['U+007F', 'a\u007fb'],
  ['U+009F', 'a\u009fb'],
  ['nothing (empty)', ''],
  ['513 chars (over 1 KiB)', 'k'.repeat(513)],
])('when a RowKey holds %s, then InvalidKey', (_label, rowKey) => {
  expect(() => assertEntityWithinLimits({ partitionKey: 'p', rowKey })).toThrow(InvalidKeyError);
});

test('when an id holds key-forbidden characters, then keyPart encodes them so the key is valid and distinct', () => {
  expect(keyPart('AB/C#d?e\\f%')).toBe('ab%2fc%23d%3fe%5cf%25');
  // '.' too: a view's part rows are `{rowKey}.pNNN`, so no id may end its key like one.
  expect(keyPart('C1.p001')).toBe('c1%2ep001');
  expect(keyPart('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
});

test('when text is chunked at 32 K chars, then no chunk splits a surrogate pair and the pieces rejoin exactly', () => {
  const text = `${'a'.repeat(32_767)}😀${'b'.repeat(10)}`;
  const chunks = chunkText(text);
  expect(chunks.every((c) => c.length <= 32_768)).toBe(true);
  expect(chunks[0].endsWith('a')).toBe(true);
  expect(chunks.join('')).toBe(text);
});

test('when a view document is 3 MB of JSON, then it is split into part rows each within every limit, and reads back equal', () => {
  const body = { items: Array.from({ length: 6000 }, (_, i) => ({ i, pad: 'é'.repeat(240) })) };
  const rows = viewEntities('pk', { runId: 'r1' }, body);
  expect(rows.length).toBeGreaterThan(1);
  for (const row of rows) expect(() => assertEntityWithinLimits(row)).not.toThrow();
  expect(rows[0].parts).toBe(rows.length - 1);
  expect(readViewRows<{ runId: string }, typeof body>(rows)?.body).toEqual(body);
});

test('when decimals carry more digits than a double, then compareDecimal compares them exactly', () => {
  expect(compareDecimal('100.0000000000000000001', '100')).toBe(1);
  expect(compareDecimal('99.99999999999999999999', '100')).toBe(-1);
  expect(compareDecimal('1e2', '100.000')).toBe(0);
  expect(compareDecimal('-5', '3')).toBe(-1);
  expect(compareDecimal('abc', '3')).toBeUndefined();
});
