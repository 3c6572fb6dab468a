import { MAX_KNOWN_SECRETS, REDACTED, redact, registerSecret } from '../../src/observability/redact';

const secret = (label: string, n: number) => `${label}-secret-${n.toString().padStart(4, '0')}`;

test('when a secret is registered, then it is masked wherever it appears', () => {
  registerSecret('alpha-secret-value');
  expect(redact('token alpha-secret-value, again alpha-secret-value')).toBe(
    `token ${REDACTED}, again ${REDACTED}`,
  );
});

test('when more secrets rotate through than the bound, then the newest are masked and the oldest are forgotten', () => {
  const total = MAX_KNOWN_SECRETS * 3;
  for (let n = 0; n < total; n++) registerSecret(secret('rotation', n));
  const masked = (n: number) => redact(`x ${secret('rotation', n)} x`) === `x ${REDACTED} x`;
  const kept = Array.from({ length: total }, (_, n) => n).filter(masked);
  expect(kept).toEqual(Array.from({ length: MAX_KNOWN_SECRETS }, (_, i) => total - MAX_KNOWN_SECRETS + i));
});

test('when a secret is registered again while others rotate, then it stays masked', () => {
  registerSecret('client-secret-kept');
  for (let n = 0; n < MAX_KNOWN_SECRETS * 2; n++) {
    registerSecret(secret('grant', n));
    // Every grant re-registers the client secret, as the token provider does.
    if (n % 4 === 0) registerSecret('client-secret-kept');
  }
  expect(redact('client-secret-kept')).toBe(REDACTED);
});

test('when a value is shorter than 8 characters, then it is not registered', () => {
  registerSecret('short');
  expect(redact('short')).toBe('short');
});
