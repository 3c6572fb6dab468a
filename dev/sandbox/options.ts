import { SANDBOX_DEFAULTS } from './defaults';
import type { FaultSettings } from './faults';
import type { GraphFaults, GraphSettings } from './graph';
import type { RateLimits } from './throttle';

/** Everything `startSandbox` accepts; every field is optional. */
export interface SandboxOptions {
  /** Interface to bind. Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default 0: a free port, reported in `baseUrl`. The CLI defaults to SANDBOX_DEFAULTS.port. */
  port?: number;
  /** Number of customers. Default SANDBOX_DEFAULTS.customers (50). */
  customers?: number;
  /** Seed of the data, the faults and the latency jitter. Default SANDBOX_DEFAULTS.seed (1). */
  seed?: number;
  /**
   * Average subscriptions per customer, a whole number 0-50: each customer gets 0 to twice it,
   * evenly. Default: the recorded mix, about 1.7 (legacy customers 1-5, Azure plan ones 1-2, one
   * customer in ten none).
   */
  subscriptionsPerCustomer?: number;
  /** Credentials the token endpoint accepts. Default: the SANDBOX_DEFAULTS values. */
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  /** The refresh token accepted at start (before any rotation). */
  refreshToken?: string;
  /** Default "Sandbox Partner". */
  partnerName?: string;
  /** Locale of the partner usage summary; its currency prices the total. Default "en-US". */
  partnerCurrencyLocale?: string;
  /** Items per page of every collection. Default 2000. */
  pageSize?: number;
  /** Items per page of one kind of collection, overriding pageSize for it. */
  pageSizes?: PageSizes;
  /** Where the sandbox clock starts. Default: the wall clock. */
  now?: Date | string | number;
  /** Stop the sandbox clock; it then moves only through `clock.setNow` / `clock.advance`. */
  freezeClock?: boolean;
  /** Usage is rated up to the last whole interval (lastModifiedDate). Default 3600. */
  usageIntervalSeconds?: number;
  /** Default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** How long a rotated-out refresh token still works. Default 60. */
  refreshGraceSeconds?: number;
  /** Lifetime of refresh tokens the sandbox issues. Default 90 days. */
  refreshTokenLifetimeSeconds?: number;
  /** Default: no limits. */
  limits?: Partial<RateLimits>;
  /** Default: no faults, no latency. */
  faults?: Partial<FaultSettings>;
  /** Prefix Partner Center bodies with a UTF-8 byte-order mark, as recorded. Default true. */
  bom?: boolean;
  /** The Graph usage export: sizes, timing, and its faults (docs/sandbox.md). */
  graph?: Partial<GraphSettings> & { faults?: Partial<GraphFaults> };
}

/** The collections the sandbox pages, named for `pageSizes`. */
export type PagedCollection =
  | 'customers'
  | 'subscriptions'
  | 'resources'
  | 'meterUsageRecords'
  | 'resourceUsageRecords'
  | 'azureEntitlements';
export type PageSizes = Partial<Record<PagedCollection, number>>;

type Unset = 'now' | 'limits' | 'faults' | 'subscriptionsPerCustomer' | 'graph';
export type ResolvedOptions = Required<Omit<SandboxOptions, Unset>> & Pick<SandboxOptions, Unset>;

export function resolveOptions(options: SandboxOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    customers: options.customers ?? SANDBOX_DEFAULTS.customers,
    seed: options.seed ?? SANDBOX_DEFAULTS.seed,
    subscriptionsPerCustomer: options.subscriptionsPerCustomer,
    tenantId: options.tenantId ?? SANDBOX_DEFAULTS.tenantId,
    clientId: options.clientId ?? SANDBOX_DEFAULTS.clientId,
    clientSecret: options.clientSecret ?? SANDBOX_DEFAULTS.clientSecret,
    refreshToken: options.refreshToken ?? SANDBOX_DEFAULTS.refreshToken,
    partnerName: options.partnerName ?? 'Sandbox Partner',
    partnerCurrencyLocale: options.partnerCurrencyLocale ?? 'en-US',
    pageSize: options.pageSize ?? 2000,
    pageSizes: { ...options.pageSizes },
    now: options.now,
    freezeClock: options.freezeClock ?? false,
    usageIntervalSeconds: options.usageIntervalSeconds ?? 3600,
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3600,
    refreshGraceSeconds: options.refreshGraceSeconds ?? 60,
    refreshTokenLifetimeSeconds: options.refreshTokenLifetimeSeconds ?? 90 * 24 * 3600,
    limits: options.limits,
    faults: options.faults,
    bom: options.bom ?? true,
    graph: options.graph,
  };
  const positive = ['pageSize', 'usageIntervalSeconds', 'accessTokenLifetimeSeconds'] as const;
  for (const key of positive) {
    if (!(Number.isInteger(resolved[key]) && resolved[key] > 0))
      throw new Error(`${key} must be a positive whole number`);
  }
  for (const [collection, size] of Object.entries(resolved.pageSizes)) {
    if (!(Number.isInteger(size) && size > 0))
      throw new Error(`pageSizes.${collection} must be a positive whole number`);
  }
  if (!Number.isInteger(resolved.seed)) throw new Error('seed must be a whole number');
  return resolved;
}
