import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTES, type ApiContext, type Route } from './api';
import { LOCALES, RATES } from './catalog';
import { SandboxClock } from './clock';
import { Counters, type CounterSnapshot } from './counters';
import { azurePlanUsage, type AzurePlanUsage } from './azurePlan';
import { SandboxData, type CustomerProfile } from './data';
import {
  entraError,
  partnerCenterError,
  pcErrors,
  tooManyRequests,
  unauthorized,
  type SandboxResponse,
} from './errors';
import { FaultPlan, NO_FAULTS, type FaultKind, type FaultSettings } from './faults';
import {
  GraphSide,
  NO_GRAPH_FAULTS,
  resolveGraphSettings,
  type GraphFaults,
  type GraphSettings,
  type SandboxExport,
} from './graph';
import { readBody, requestIds, writeResponse, type Delivery, type RequestIds } from './http';
import { resolveOptions, type ResolvedOptions, type SandboxOptions } from './options';
import { CONTINUATION_HEADER, ContinuationTokens } from './paging';
import { partnerTotals, type PartnerProfile, type PartnerTotals } from './records';
import { Throttle, type RateLimits } from './throttle';
import { TokenAuthority } from './tokens';
import { customerUsage, subscriptionUsage, usageMoment, type CustomerUsage, type UsageMoment } from './usage';

/** A running sandbox and the handles tests and benchmarks steer it with. */
export interface Sandbox {
  /** e.g. http://127.0.0.1:7072 — both PARTNER_CENTER_BASE_URL and PARTNER_CENTER_AUTHORITY_HOST. */
  readonly baseUrl: string;
  readonly port: number;
  /** `${baseUrl}/${tenantId}/oauth2/v2.0/token` */
  readonly tokenUrl: string;
  /** The credentials the token endpoint accepts. */
  readonly credentials: { tenantId: string; clientId: string; clientSecret: string; refreshToken: string };
  readonly clock: SandboxClock;
  readonly faults: {
    get(): FaultSettings;
    /** Changes some rates or delays; unnamed ones keep their value. */
    set(settings: Partial<FaultSettings>): void;
    /** No faults, no latency. */
    clear(): void;
  };
  readonly limits: { get(): RateLimits; set(limits: Partial<RateLimits>): void };
  readonly counters: { snapshot(): CounterSnapshot; reset(): void };
  /** The generated customers, for computing what the API should answer. */
  readonly data: SandboxData;
  /** The usage moment served at `at` (default: the sandbox clock's now). */
  moment(at?: Date | string | number): UsageMoment;
  /** A customer's figures (by index or tenant id) at `at`, as the API would serve them. */
  customerUsage(customer: number | string, at?: Date | string | number): CustomerUsage;
  /** An Azure plan's meters and resources (customer by index or tenant id) at `at`, as served. */
  azurePlanUsage(customer: number | string, planId: string, at?: Date | string | number): AzurePlanUsage;
  /** Turns the UTF-8 BOM on Partner Center bodies on or off. */
  setBom(enabled: boolean): void;
  /** Makes a refresh token fail with invalid_grant from now on. False if it was never issued. */
  revokeRefreshToken(token: string): boolean;
  /** The newest refresh token the token endpoint handed out. */
  latestRefreshToken(): string;
  /** An app-only (client credentials) access token. */
  issueAppOnlyToken(): string;
  /** The Microsoft Graph side: the daily rated usage export and its blobs (docs/sandbox.md). */
  readonly graph: {
    /** `${baseUrl}` — GRAPH_BASE_URL; blobs are served under `${baseUrl}/blobs/`. */
    readonly baseUrl: string;
    /** An app-only Graph access token without a round trip. */
    issueToken(): string;
    faults: {
      get(): GraphFaults;
      set(faults: Partial<GraphFaults>): void;
      clear(): void;
    };
    /** Every SAS handed out so far fails as expired from now on (no clock change needed). */
    expireSas(): void;
    /** The exports started so far, with their line generators. */
    exports(): SandboxExport[];
    /** The sandbox's invoice id of the billing period holding `at`, e.g. G202611001. */
    invoiceId(at: Date | string | number): string;
  };
  /** An access token without a round trip; `mfa: false` makes App+User calls fail with 401/900421. */
  issueAccessToken(options?: { appOnly?: boolean; mfa?: boolean; lifetimeSeconds?: number }): string;
  close(): Promise<void>;
}

/** Starts a Partner Center + Entra ID token endpoint sandbox. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const server = new SandboxServer(resolveOptions(options));
  return server.listen();
}

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token\/?$/i;
const TOKEN_ROUTE = 'POST /{tenant}/oauth2/v2.0/token';

class SandboxServer {
  private readonly clock: SandboxClock;
  private readonly data: SandboxData;
  private readonly tokens: TokenAuthority;
  private readonly throttle: Throttle;
  private readonly faults: FaultPlan;
  private readonly counters = new Counters();
  private readonly continuation = new ContinuationTokens();
  private readonly partner: PartnerProfile;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly http: Server;
  private readonly graph: GraphSide;
  private bom: boolean;
  private sequence = 0;
  private totalsCache: { asOf: number; version: number; totals: PartnerTotals } | undefined;

  constructor(private readonly options: ResolvedOptions) {
    this.clock = new SandboxClock(options.now, options.freezeClock);
    this.data = new SandboxData(options.seed, options.customers, options.subscriptionsPerCustomer);
    this.tokens = new TokenAuthority(options, this.clock);
    this.throttle = new Throttle(options.limits ?? {}, this.clock);
    this.faults = new FaultPlan(options.seed, options.faults ?? {});
    this.bom = options.bom;
    const currency = LOCALES.find((l) => l.locale === options.partnerCurrencyLocale)?.currency ?? 'USD';
    this.partner = {
      tenantId: options.tenantId,
      name: options.partnerName,
      currencyLocale: options.partnerCurrencyLocale,
      rate: RATES[currency],
    };
    this.graph = new GraphSide(
      resolveGraphSettings(graphSettingsOf(options.graph)),
      options.graph?.faults ?? {},
      {
        seed: options.seed,
        data: this.data,
        partner: { tenantId: options.tenantId, name: options.partnerName },
        clock: this.clock,
        tokens: this.tokens,
        counters: this.counters,
        usageIntervalMs: options.usageIntervalSeconds * 1000,
      },
    );
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        console.error('sandbox: handler failed', error);
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  async listen(): Promise<Sandbox> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => resolve());
    });
    const { port } = this.http.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    const baseUrl = `http://${host}:${port}`;
    const { tenantId, clientId, clientSecret, refreshToken } = this.options;
    return {
      baseUrl,
      port,
      tokenUrl: `${baseUrl}/${tenantId}/oauth2/v2.0/token`,
      credentials: { tenantId, clientId, clientSecret, refreshToken },
      clock: this.clock,
      faults: {
        get: () => this.faults.settings,
        set: (settings) => this.faults.set(settings),
        clear: () => this.faults.set(NO_FAULTS),
      },
      limits: { get: () => this.throttle.limits, set: (limits) => this.throttle.set(limits) },
      counters: { snapshot: () => this.counters.snapshot(), reset: () => this.counters.reset() },
      data: this.data,
      moment: (at) => this.moment(at),
      customerUsage: (customer, at) => customerUsage(this.profile(customer), this.moment(at)),
      azurePlanUsage: (customer, planId, at) => {
        const profile = this.profile(customer);
        const plan = profile.subscriptions.find((s) => s.id.toLowerCase() === planId.toLowerCase());
        if (!plan) throw new Error(`customer ${customer} has no subscription ${planId}`);
        const moment = this.moment(at);
        return azurePlanUsage(
          subscriptionUsage(profile, plan, moment),
          this.data.azurePlan(profile, plan),
          moment,
        );
      },
      setBom: (enabled) => {
        this.bom = enabled;
      },
      revokeRefreshToken: (token) => this.tokens.revokeRefreshToken(token),
      latestRefreshToken: () => this.tokens.latestRefreshToken,
      issueAppOnlyToken: () => this.tokens.issueAccessToken({ appOnly: true }),
      graph: {
        baseUrl,
        issueToken: () => this.tokens.issueAccessToken({ appOnly: true, audience: 'graph' }),
        faults: {
          get: () => this.graph.faultSettings,
          set: (faults) => this.graph.setFaults(faults),
          clear: () => this.graph.setFaults(NO_GRAPH_FAULTS),
        },
        expireSas: () => this.graph.expireSas(),
        exports: () => this.graph.exports(),
        invoiceId: (at) => GraphSide.invoiceId(new Date(at).getTime()),
      },
      issueAccessToken: (opts = {}) => this.tokens.issueAccessToken({ appOnly: false, ...opts }),
      close: () => this.close(),
    };
  }

  private profile(customer: number | string): CustomerProfile {
    const profile =
      typeof customer === 'number' ? this.data.customer(customer) : this.data.findCustomer(customer);
    if (!profile) throw new Error(`no customer ${customer}`);
    return profile;
  }

  private moment(at?: Date | string | number): UsageMoment {
    const ms = at === undefined ? this.clock.now() : new Date(at).getTime();
    return usageMoment(ms, this.options.usageIntervalSeconds * 1000);
  }

  private async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ids = requestIds(req);
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const tokenPath = TOKEN_PATH.exec(url.pathname);
    if (tokenPath) return this.handleToken(req, res, ids, decodeURIComponent(tokenPath[1]));
    if (GraphSide.owns(url.pathname)) return this.graph.handle(req, res, url);

    const matching = ROUTES.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0) return this.send(res, 'unmatched', pcErrors.routeNotFound(), ids);
    const route = matching.find((r) => (r.method ?? 'GET') === req.method);
    if (!route) return this.send(res, matching[0].template, pcErrors.methodNotAllowed(), ids);
    const params = (route.pattern.exec(url.pathname) ?? []).slice(1);
    const body = req.method === 'PATCH' ? await readBody(req) : undefined;

    const decision = this.faults.decide(this.sequence++);
    if (decision.delayMs > 0) await new Promise<void>((resolve) => this.later(decision.delayMs, resolve));

    const refusal = this.refuse(req, route, params);
    if (refusal) return this.send(res, route.template, refusal, ids);

    if (decision.fault) this.counters.fault(decision.fault);
    if (decision.fault === 'reset') {
      this.counters.request(route.template, 'reset');
      req.socket.resetAndDestroy();
      return;
    }
    if (decision.fault === 'status500') return this.send(res, route.template, pcErrors.internal(), ids);
    if (decision.fault === 'status503') return this.send(res, route.template, pcErrors.unavailable(), ids);

    const continuationToken = req.headers[CONTINUATION_HEADER.toLowerCase()];
    const context: ApiContext = {
      data: this.data,
      moment: this.moment(),
      partner: this.partner,
      pageSize: this.options.pageSize,
      pageSizes: this.options.pageSizes,
      continuation: this.continuation,
      continuationToken: Array.isArray(continuationToken) ? continuationToken[0] : continuationToken,
      query: url.searchParams,
      body,
      partnerTotals: (moment) => this.partnerTotals(moment),
    };
    return this.send(res, route.template, route.handle(context, params), ids, deliveryFor(decision.fault));
  }

  /** Authentication, authorization and throttling, in the order Partner Center's front door applies them. */
  private refuse(req: IncomingMessage, route: Route, params: string[]): SandboxResponse | undefined {
    const realm = `urn:cpsvc:cpid:${this.options.tenantId}`;
    const auth = this.tokens.authenticate(req.headers.authorization);
    if (!auth.ok) return unauthorized(realm, auth.description);
    if (auth.grant.audience !== 'partnerCenter') {
      return unauthorized(realm, 'Access is denied. The token was issued for another audience.');
    }
    if (route.auth === 'appUser' && auth.grant.appOnly) {
      // Assumed body: the notes say only that these calls are App+User only.
      return partnerCenterError(
        403,
        403,
        'This operation requires App+User authentication; app-only tokens are not accepted.',
      );
    }
    if (route.auth === 'appUser' && !auth.grant.mfa) {
      return unauthorized(
        realm,
        'The access token lacks the multi-factor authentication claim required for App+User calls.',
        900421,
      );
    }
    const decision = this.throttle.take(this.options.tenantId, route.customerScoped ? params[0] : undefined);
    return decision.ok ? undefined : tooManyRequests(decision.retryAfterSeconds);
  }

  private partnerTotals(moment: UsageMoment): PartnerTotals {
    // A PATCHed budget changes who is over budget, so the cache is also keyed by the data's version.
    if (this.totalsCache?.asOf !== moment.asOf || this.totalsCache.version !== this.data.version) {
      this.totalsCache = {
        asOf: moment.asOf,
        version: this.data.version,
        totals: partnerTotals(this.data, moment),
      };
    }
    return this.totalsCache.totals;
  }

  private async handleToken(
    req: IncomingMessage,
    res: ServerResponse,
    ids: RequestIds,
    tenant: string,
  ): Promise<void> {
    const now = this.clock.now();
    if (req.method !== 'POST') {
      return this.send(
        res,
        TOKEN_ROUTE,
        entraError(
          405,
          'invalid_request',
          900561,
          'The endpoint only accepts POST requests.',
          now,
          ids.correlationId,
        ),
        ids,
      );
    }
    const type = req.headers['content-type'] ?? '';
    const body = await readBody(req);
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return this.send(
        res,
        TOKEN_ROUTE,
        entraError(
          400,
          'invalid_request',
          900144,
          "The request body must contain the following parameter: 'grant_type'.",
          now,
          ids.correlationId,
        ),
        ids,
      );
    }
    const result = this.tokens.grant(tenant, new URLSearchParams(body), ids.correlationId);
    if (result.issued) this.counters.tokenIssued(result.issued);
    return this.send(res, TOKEN_ROUTE, result.response, ids);
  }

  private async send(
    res: ServerResponse,
    route: string,
    response: SandboxResponse,
    ids: RequestIds,
    delivery: Delivery = 'whole',
  ): Promise<void> {
    this.counters.request(route, String(response.status));
    await writeResponse(res, response, ids, {
      bom: this.bom,
      delivery,
      slowBodyMs: this.faults.settings.slowBodyMs,
      later: (ms, fn) => this.later(ms, fn),
    });
  }
}

function deliveryFor(fault: FaultKind | undefined): Delivery {
  return fault === 'truncated' || fault === 'malformed' || fault === 'slowBody' ? fault : 'whole';
}

function graphSettingsOf(graph: SandboxOptions['graph']): Partial<GraphSettings> {
  if (!graph) return {};
  const { faults: _faults, ...settings } = graph;
  return settings;
}
