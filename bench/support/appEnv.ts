import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Sandbox } from '../../dev/sandbox';
import { repoRoot } from '../harness';

/**
 * The NODE_OPTIONS the deployment sets (infra/app/api.bicep loads the same file): V8's heap bounds.
 * Bench children that run the app as a Functions worker would (API server, export workers) start
 * with them.
 */
export function deployedNodeOptions(): string {
  return readFileSync(path.join(repoRoot(), 'infra/app/node-options.txt'), 'utf8').trim();
}
/** Settings for the app under benchmark: Azurite, and a Partner Center it never reaches on reads. */
export function benchAppEnv(connectionString: string): Record<string, string> {
  return {
    STORAGE_CONNECTION_STRING: connectionString,
    PARTNER_CENTER_TENANT_ID: '11111111-2222-4333-8444-555555555555',
    PARTNER_CENTER_CLIENT_ID: '66666666-7777-4888-9999-aaaaaaaaaaaa',
    PARTNER_CENTER_CLIENT_SECRET: 'sandbox-client-secret',
    PARTNER_CENTER_REFRESH_TOKEN: 'sandbox-refresh-token',
    PARTNER_CENTER_BASE_URL: 'http://127.0.0.1:9',
    PARTNER_CENTER_AUTHORITY_HOST: 'http://127.0.0.1:9',
    SNAPSHOT_SCHEDULE: '0 0 */6 * * *',
    SNAPSHOT_RESUME_SCHEDULE: '0 */5 * * * *',
    RETENTION_SCHEDULE: '0 30 2 * * *',
    USAGE_EXPORT_SCHEDULE: '0 0 4 * * *',
    USAGE_EXPORT_POLL_SCHEDULE: '0 */5 * * * *',
  };
}

/** The app's settings pointed at a running sandbox (as Partner Center and Entra) and at Azurite. */
export function sandboxAppEnv(
  connectionString: string,
  sandbox: Pick<Sandbox, 'baseUrl' | 'credentials'>,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    ...benchAppEnv(connectionString),
    PARTNER_CENTER_BASE_URL: sandbox.baseUrl,
    PARTNER_CENTER_AUTHORITY_HOST: sandbox.baseUrl,
    PARTNER_CENTER_TENANT_ID: sandbox.credentials.tenantId,
    PARTNER_CENTER_CLIENT_ID: sandbox.credentials.clientId,
    PARTNER_CENTER_CLIENT_SECRET: sandbox.credentials.clientSecret,
    PARTNER_CENTER_REFRESH_TOKEN: sandbox.credentials.refreshToken,
    ...overrides,
  };
}
