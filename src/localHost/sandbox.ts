import { SANDBOX_DEFAULTS } from '../sandbox/defaults';
import { startSandbox } from '../sandbox';

export interface RunningSandbox {
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the Partner Center sandbox where the settings expect Partner Center: on the loopback
 * port of PARTNER_CENTER_BASE_URL, accepting the configured tenant, client id and local secrets.
 */
export async function startSandboxFor(
  env: NodeJS.ProcessEnv,
  options: { customers?: number },
): Promise<RunningSandbox> {
  const base = new URL(env.PARTNER_CENTER_BASE_URL ?? `http://127.0.0.1:${SANDBOX_DEFAULTS.port}`);
  const authority = env.PARTNER_CENTER_AUTHORITY_HOST ? new URL(env.PARTNER_CENTER_AUTHORITY_HOST) : base;
  if (authority.host !== base.host) {
    throw new Error(
      'PARTNER_CENTER_AUTHORITY_HOST must equal PARTNER_CENTER_BASE_URL when the sandbox is used',
    );
  }
  const sandbox = await startSandbox({
    host: base.hostname,
    port: Number(base.port || 80),
    customers: options.customers ?? SANDBOX_DEFAULTS.customers,
    tenantId: env.PARTNER_CENTER_TENANT_ID ?? SANDBOX_DEFAULTS.tenantId,
    clientId: env.PARTNER_CENTER_CLIENT_ID ?? SANDBOX_DEFAULTS.clientId,
    clientSecret: env.PARTNER_CENTER_CLIENT_SECRET ?? SANDBOX_DEFAULTS.clientSecret,
    refreshToken: env.PARTNER_CENTER_REFRESH_TOKEN ?? SANDBOX_DEFAULTS.refreshToken,
  });
  return { baseUrl: sandbox.baseUrl, close: () => sandbox.close() };
}
