import { randomBytes } from 'node:crypto';
import { ContinuationTokens, TOKEN_LIFETIME_MS, type TokenBinding } from '../../src/api/continuationToken';
import { isApiError } from '../../src/api/errors';
import type { SigningKeys } from '../../src/secrets/signingKeys';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const only =
  (...keys: Buffer[]) =>
  async (): Promise<SigningKeys> => ({ current: keys[0], accepted: keys });
const tokens = new ContinuationTokens(only(keyA));
const binding: TokenBinding = {
  route: 'customerHistory',
  ids: ['a'],
  query: { from: '2025-05-01T00:00:00.000Z' },
};

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return isApiError(error) ? error.code : 'not an ApiError';
  }
}

test('when a token is wrapped and unwrapped with the same binding, then the store token comes back', async () => {
  const token = (await tokens.wrap('{"nextPartitionKey":"c_1","nextRowKey":"h_2"}', binding)) as string;
  expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  expect(await tokens.unwrap(token, binding)).toBe('{"nextPartitionKey":"c_1","nextRowKey":"h_2"}');
  expect(await tokens.wrap(undefined, binding)).toBeUndefined();
});

test('when the binding differs by id, route or filter, then InvalidContinuationToken', async () => {
  const token = (await tokens.wrap('next', binding)) as string;
  expect(await codeOf(() => tokens.unwrap(token, { ...binding, ids: ['b'] }))).toBe(
    'InvalidContinuationToken',
  );
  expect(await codeOf(() => tokens.unwrap(token, { ...binding, route: 'subscriptionHistory' }))).toBe(
    'InvalidContinuationToken',
  );
  expect(await codeOf(() => tokens.unwrap(token, { ...binding, query: {} }))).toBe(
    'InvalidContinuationToken',
  );
});

test('when the payload is re-encoded to point elsewhere, then the signature fails', async () => {
  const token = (await tokens.wrap('next', binding)) as string;
  const [payload, signature] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...decoded, t: 'c_other' })).toString('base64url');
  expect(await codeOf(() => tokens.unwrap(`${forged}.${signature}`, binding))).toBe(
    'InvalidContinuationToken',
  );
});

test("when another deployment's key signed the token, then it does not verify here", async () => {
  const token = (await new ContinuationTokens(only(keyB)).wrap('next', binding)) as string;
  expect(await codeOf(() => tokens.unwrap(token, binding))).toBe('InvalidContinuationToken');
});

test('when the key rotates, then tokens of the previous key page on during the overlap and fail once it is dropped', async () => {
  const old = (await new ContinuationTokens(only(keyA)).wrap('next', binding)) as string;
  const overlap = new ContinuationTokens(only(keyB, keyA));
  expect(await overlap.unwrap(old, binding)).toBe('next');
  const fresh = (await overlap.wrap('next', binding)) as string;
  expect(await new ContinuationTokens(only(keyB)).unwrap(fresh, binding)).toBe('next');
  expect(await codeOf(() => new ContinuationTokens(only(keyB)).unwrap(old, binding))).toBe(
    'InvalidContinuationToken',
  );
});

test('when a token is older than its lifetime, then InvalidContinuationToken', async () => {
  let now = Date.parse('2026-12-04T00:00:00Z');
  const clocked = new ContinuationTokens(only(keyA), () => now);
  const token = (await clocked.wrap('next', binding)) as string;
  now += TOKEN_LIFETIME_MS - 1;
  expect(await clocked.unwrap(token, binding)).toBe('next');
  now += 2;
  expect(await codeOf(() => clocked.unwrap(token, binding))).toBe('InvalidContinuationToken');
});

test.each([[''], ['.'], ['a.b.c'], ['a'.repeat(5000)], ['###.$$$'], ['e30.e30'], ['\u0000.\u0000']])(
  'when the token is %j, then InvalidContinuationToken, never another error',
  async (token) => {
    expect(await codeOf(() => tokens.unwrap(token, binding))).toBe('InvalidContinuationToken');
  },
);
