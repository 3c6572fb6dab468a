/**
 * Credentials and ids the sandbox accepts out of the box. local.settings.sample.json carries the
 * same values, so `npm start` authenticates against the sandbox with no setup. They open nothing
 * but the sandbox.
 */
export const SANDBOX_DEFAULTS = {
  port: 7072,
  tenantId: '11111111-2222-4333-8444-555555555555',
  clientId: '66666666-7777-4888-9999-aaaaaaaaaaaa',
  clientSecret: 'sandbox-client-secret',
  refreshToken: 'sandbox-refresh-token',
  customers: 50,
  seed: 1,
} as const;
