import { SANDBOX_DEFAULTS } from '../sandbox/defaults';
import { startSandbox } from '../sandbox';
import type { SandboxOptions } from '../sandbox/options';

/** The sandbox options `npm start` passes through, so a new user can watch usage and history move. */
export type PassedThrough = Pick<SandboxOptions, 'now' | 'freezeClock' | 'usageIntervalSeconds' | 'seed'>;

/**
 * `npm start -- --sandbox-now ISO --sandbox-freeze-clock --sandbox-usage-interval-seconds N
 * --sandbox-seed S`: the sandbox CLI's clock, usage-interval and seed options under a prefix
 * (port, host and credentials come from the settings).
 */
export const sandboxPassThrough = {
  options: {
    'sandbox-now': { type: 'string' },
    'sandbox-freeze-clock': { type: 'boolean' },
    'sandbox-usage-interval-seconds': { type: 'string' },
    'sandbox-seed': { type: 'string' },
  } as const,
  read(args: Record<string, string | boolean | undefined>): PassedThrough {
    const number = (flag: string): number | undefined => {
      const raw = args[flag];
      if (raw === undefined) return undefined;
      const value = Number(raw);
      if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value))
        throw new Error(`--${flag} expects a number, got "${String(raw)}"`);
      return value;
    };
    const now = args['sandbox-now'];
    if (typeof now === 'string' && Number.isNaN(Date.parse(now)))
      throw new Error(`--sandbox-now expects an ISO date, got "${now}"`);
    return {
      now: typeof now === 'string' ? now : undefined,
      freezeClock: args['sandbox-freeze-clock'] === true ? true : undefined,
      usageIntervalSeconds: number('sandbox-usage-interval-seconds'),
      seed: number('sandbox-seed'),
    };
  },
};

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
  options: { customers?: number } & PassedThrough,
): Promise<RunningSandbox> {
  const base = new URL(env.PARTNER_CENTER_BASE_URL ?? `http://127.0.0.1:${SANDBOX_DEFAULTS.port}`);
  const authority = env.PARTNER_CENTER_AUTHORITY_HOST ? new URL(env.PARTNER_CENTER_AUTHORITY_HOST) : base;
  if (authority.host !== base.host) {
    throw new Error(
      'PARTNER_CENTER_AUTHORITY_HOST must equal PARTNER_CENTER_BASE_URL when the sandbox is used',
    );
  }
  const sandbox = await startSandbox({
    now: options.now,
    freezeClock: options.freezeClock,
    usageIntervalSeconds: options.usageIntervalSeconds,
    seed: options.seed,
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
