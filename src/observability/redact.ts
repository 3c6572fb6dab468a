/**
 * Last line of defence for "secrets never appear in logs, errors or responses": values the app
 * learns at run time (client secret, refresh and access tokens) are registered here, and every
 * log line and error body passes through `redact`. Patterns catch credentials the app never saw
 * as values (storage keys in connection strings, bearer headers, form-encoded grants).
 */
// Insertion-ordered, newest last: a value registered again moves to the end. Bounded, because the
// refresh and access tokens rotate for as long as the process lives; a token evicted here was
// superseded dozens of grants ago, and PATTERNS still catch tokens in the shapes they travel in.
const known = new Set<string>();

/** How many registered secrets are kept (the newest); the client secret is registered on every grant, so it stays. */
export const MAX_KNOWN_SECRETS = 64;

const PATTERNS: RegExp[] = [
  /(AccountKey=)[^;"'\s]+/gi,
  /(SharedAccessSignature=|sig=)[^;&"'\s]+/gi,
  /(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi,
  /((?:client_secret|refresh_token|access_token|assertion|code)=)[^&"'\s]+/gi,
  /("(?:client_secret|refresh_token|access_token|id_token|clientSecret|refreshToken|accessToken|password)"\s*:\s*")[^"]*/gi,
];

export const REDACTED = '[redacted]';

/** Registers a secret value (8+ characters) so it is masked wherever it appears, while it is among the newest. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 8) return;
  known.delete(value);
  known.add(value);
  for (const oldest of known) {
    if (known.size <= MAX_KNOWN_SECRETS) break;
    known.delete(oldest);
  }
}

export function redact(text: string): string {
  let out = text;
  for (const value of known) {
    if (out.includes(value)) out = out.split(value).join(REDACTED);
  }
  for (const pattern of PATTERNS) out = out.replace(pattern, `$1${REDACTED}`);
  return out;
}
