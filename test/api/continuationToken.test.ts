import { ContinuationTokens, continuationTokenKey, type TokenBinding } from '../../src/api/continuationToken';
import { isApiError } from '../../src/api/errors';
import { apiSettings } from './support/fixtures';

const key = continuationTokenKey(apiSettings);
const tokens = new ContinuationTokens(key);
const binding: TokenBinding = {
  route: 'customerHistory',
  ids: ['a'],
  query: { from: '2025-05-01T00:00:00.000Z' },
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return isApiError(error) ? error.code : 'not an ApiError';
  }
}

test('when a token is wrapped and unwrapped with the same binding, then the store token comes back', () => {
  const token = tokens.wrap('{"nextPartitionKey":"c_1","nextRowKey":"h_2"}', binding) as string;
  expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  expect(tokens.unwrap(token, binding)).toBe('{"nextPartitionKey":"c_1","nextRowKey":"h_2"}');
  expect(tokens.wrap(undefined, binding)).toBeUndefined();
});

test('when the binding differs by id, route or filter, then InvalidContinuationToken', () => {
  const token = tokens.wrap('next', binding) as string;
  expect(codeOf(() => tokens.unwrap(token, { ...binding, ids: ['b'] }))).toBe('InvalidContinuationToken');
  expect(codeOf(() => tokens.unwrap(token, { ...binding, route: 'subscriptionHistory' }))).toBe(
    'InvalidContinuationToken',
  );
  expect(codeOf(() => tokens.unwrap(token, { ...binding, query: {} }))).toBe('InvalidContinuationToken');
});

test('when the payload is re-encoded to point at another customer, then the signature fails', () => {
  const token = tokens.wrap('next', binding) as string;
  const [payload] = token.split('.');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...decoded, t: 'c_other' })).toString('base64url');
  expect(codeOf(() => tokens.unwrap(`${forged}.${token.split('.')[1]}`, binding))).toBe(
    'InvalidContinuationToken',
  );
});

test("when another deployment's key signed the token, then it does not verify here", () => {
  const other = new ContinuationTokens(
    continuationTokenKey({ storage: { ...apiSettings.storage, tablePrefix: 'otherapp' } }),
  );
  const token = other.wrap('next', binding) as string;
  expect(codeOf(() => tokens.unwrap(token, binding))).toBe('InvalidContinuationToken');
});

test.each([[''], ['.'], ['a.b.c'], ['a'.repeat(5000)], ['###.$$$'], ['e30.e30'], ['\u0000.\u0000']])(
  'when the token is %j, then InvalidContinuationToken, never another error',
  (token) => {
    expect(codeOf(() => tokens.unwrap(token, binding))).toBe('InvalidContinuationToken');
  },
);
