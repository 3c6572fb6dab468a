import { randomUUID } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import type { z } from 'zod';
import { USER_AGENT } from '../version';
import type { Settings } from '../config/settings';
import type {
  AzureResourceMonthlyUsageRecord,
  CustomerMonthlyUsageRecord,
  CustomerUsageSummary,
  PartnerUsageSummary,
  SubscriptionMonthlyUsageRecord,
} from '../domain/usage';
import type {
  AzureEntitlement,
  MeterUsageRecord,
  ResourceUsageRecord,
  SpendingBudget,
  SubscriptionUsageSummary,
} from '../domain/azurePlan';
import type { Decimal } from '../domain/usage';
import type { Logger } from '../observability/logger';
import type { TokenProvider } from './auth';
import {
  InvalidBudgetAmountError,
  PartnerCenterError,
  PartnerCenterNetworkError,
  PartnerCenterTimeoutError,
  RequestAbortedError,
  ResponseShapeError,
  type RequestIds,
} from './errors';
import { parseJson, tryParseJson } from './json';
import { createRequestLimiter, type RequestLimiter } from './limiter';
import { paginate, type PageRequest } from './paging';
import type { AzurePlanUsageClient, CallOptions, PartnerCenterClient } from './partnerCenterClient';
import { DEFAULT_RETRY, loggedRetries, retryOrThrow, withRetries, type RetryPolicy } from './retry';
import {
  azureEntitlementSchema,
  azureResourceMonthlyUsageRecordSchema,
  collectionPageSchema,
  customerMonthlyUsageRecordSchema,
  customerUsageSummarySchema,
  errorBodySchema,
  meterUsageRecordSchema,
  partnerUsageSummarySchema,
  resourceUsageRecordSchema,
  subscriptionMonthlyUsageRecordSchema,
  subscriptionUsageSummarySchema,
  usageBudgetSchema,
  validate,
} from './schemas';
import { createHttp, send } from './transport';

export interface PartnerCenterClientOptions {
  settings: Settings['partnerCenter'];
  tokens: TokenProvider;
  logger: Logger;
  /** Shared with the token provider in production; one is created when absent. */
  http?: AxiosInstance;
  /** Overrides of the retry timing (tests shorten the waits); maxRetries comes from settings. */
  retry?: Partial<RetryPolicy>;
  /** Jitter source, [0, 1). */
  random?: () => number;
}

/** Partner Center's "Customer does not have usage data.": a normal state, not a failure. */
export const NO_USAGE_DATA = 3000;

/** A request of the client: a page of a collection, or a PATCH with its JSON body. */
interface ClientRequest extends PageRequest {
  method?: 'GET' | 'PATCH';
  body?: string;
}

// A plain non-negative decimal, as Partner Center writes amounts; no sign, exponent or spaces.
const BUDGET_AMOUNT = /^(0|[1-9]\d*)(\.\d+)?$/;

interface Fetched {
  body: unknown;
  context: RequestIds & { endpoint: string };
}

/**
 * The Partner Center client of the process (create it once: it owns the rate limiter and the
 * keep-alive connections). Every request goes through the limiter, carries a new MS-RequestId,
 * the run's MS-CorrelationId and the app's User-Agent, is retried within bounds on 429/408/5xx,
 * network errors, timeouts and unparseable bodies, and re-authenticates once on a 401.
 */
export function createPartnerCenterClient(
  options: PartnerCenterClientOptions,
): PartnerCenterClient & AzurePlanUsageClient {
  return new HttpPartnerCenterClient(options);
}

class HttpPartnerCenterClient implements PartnerCenterClient, AzurePlanUsageClient {
  private readonly http: AxiosInstance;
  private readonly limiter: RequestLimiter;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;

  constructor(private readonly options: PartnerCenterClientOptions) {
    this.http = options.http ?? createHttp();
    this.limiter = createRequestLimiter({
      requestsPerMinute: options.settings.requestsPerMinute,
      maxConcurrency: options.settings.maxConcurrency,
    });
    this.retry = { ...DEFAULT_RETRY, maxRetries: options.settings.maxRetries, ...options.retry };
    this.random = options.random ?? Math.random;
  }

  async getPartnerUsageSummary(call: CallOptions = {}): Promise<PartnerUsageSummary> {
    const fetched = await this.fetchJson({ path: '/v1/usagesummary', headers: {} }, call);
    return check(partnerUsageSummarySchema, fetched.body, [], fetched.context);
  }

  listCustomerUsageRecords(call: CallOptions = {}): AsyncIterable<CustomerMonthlyUsageRecord> {
    return this.list('/v1/customers/usagerecords', customerMonthlyUsageRecordSchema, call);
  }

  async getCustomerUsageSummary(
    customerId: string,
    call: CallOptions = {},
  ): Promise<CustomerUsageSummary | undefined> {
    try {
      const fetched = await this.fetchJson(
        { path: `/v1/customers/${encodeURIComponent(customerId)}/usagesummary`, headers: {} },
        call,
      );
      return check(customerUsageSummarySchema, fetched.body, [], fetched.context);
    } catch (error) {
      if (error instanceof PartnerCenterError && error.pcCode === NO_USAGE_DATA) return undefined;
      throw error;
    }
  }

  listSubscriptionUsageRecords(
    customerId: string,
    call: CallOptions = {},
  ): AsyncIterable<SubscriptionMonthlyUsageRecord> {
    return this.list(
      `/v1/customers/${encodeURIComponent(customerId)}/subscriptions/usagerecords`,
      subscriptionMonthlyUsageRecordSchema,
      call,
    );
  }

  listResourceUsageRecords(
    customerId: string,
    subscriptionId: string,
    call: CallOptions = {},
  ): AsyncIterable<AzureResourceMonthlyUsageRecord> {
    return this.list(
      `/v1/customers/${encodeURIComponent(customerId)}/subscriptions/${encodeURIComponent(subscriptionId)}/usagerecords/resources`,
      azureResourceMonthlyUsageRecordSchema,
      call,
    );
  }

  async getSubscriptionUsageSummary(
    customerId: string,
    subscriptionId: string,
    call: CallOptions = {},
  ): Promise<SubscriptionUsageSummary | undefined> {
    try {
      const fetched = await this.fetchJson(
        { path: `${subscriptionPath(customerId, subscriptionId)}/usagesummary`, headers: {} },
        call,
      );
      return check(subscriptionUsageSummarySchema, fetched.body, [], fetched.context);
    } catch (error) {
      if (error instanceof PartnerCenterError && error.pcCode === NO_USAGE_DATA) return undefined;
      throw error;
    }
  }

  listMeterUsageRecords(
    customerId: string,
    planId: string,
    call: CallOptions = {},
  ): AsyncIterable<MeterUsageRecord> {
    return this.list(
      `${subscriptionPath(customerId, planId)}/meterusagerecords`,
      meterUsageRecordSchema,
      call,
    );
  }

  listPlanResourceUsageRecords(
    customerId: string,
    planId: string,
    call: CallOptions = {},
  ): AsyncIterable<ResourceUsageRecord> {
    return this.list(
      `${subscriptionPath(customerId, planId)}/resourceusagerecords`,
      resourceUsageRecordSchema,
      call,
    );
  }

  listAzureEntitlements(
    customerId: string,
    planId: string,
    call: CallOptions = {},
  ): AsyncIterable<AzureEntitlement> {
    return this.list(
      `${subscriptionPath(customerId, planId)}/azureEntitlements`,
      azureEntitlementSchema,
      call,
    );
  }

  async getUsageBudget(customerId: string, call: CallOptions = {}): Promise<SpendingBudget> {
    const fetched = await this.fetchJson(
      { path: `/v1/customers/${encodeURIComponent(customerId)}/usagebudget`, headers: {} },
      call,
    );
    return check(usageBudgetSchema, fetched.body, [], fetched.context);
  }

  async setUsageBudget(
    customerId: string,
    amount: Decimal | null,
    call: CallOptions = {},
  ): Promise<SpendingBudget> {
    if (amount !== null && !BUDGET_AMOUNT.test(amount)) throw new InvalidBudgetAmountError(amount);
    // The amount goes in as its own digits, so no double rounds it on the way out.
    const body = `{"Amount":${amount ?? 'null'},"Attributes":{"ObjectType":"SpendingBudget"}}`;
    const fetched = await this.fetchJson(
      {
        method: 'PATCH',
        path: `/v1/customers/${encodeURIComponent(customerId)}/usagebudget`,
        headers: { 'Content-Type': 'application/json' },
        body,
      },
      call,
    );
    return check(usageBudgetSchema, fetched.body, [], fetched.context);
  }

  private list<S extends z.ZodType>(
    path: string,
    itemSchema: S,
    call: CallOptions,
  ): AsyncIterable<z.output<S>> {
    // Every page of one listing shares a correlation id, even when the caller gave none.
    const pageCall = { ...call, correlationId: call.correlationId ?? randomUUID() };
    return paginate<z.output<S>>(
      { path, headers: {} },
      async (request) => {
        const { body, context } = await this.fetchJson(request, pageCall);
        const page = check(collectionPageSchema, body, [], context);
        const items = page.items.map((item, index) => check(itemSchema, item, ['items', index], context));
        return { items, next: page.next };
      },
      this.options.settings.baseUrl,
    );
  }

  /**
   * One request with the limiter, retries and re-authentication. A PATCH goes through the same
   * retries as a GET: the only PATCH is usagebudget, which sets an absolute amount, so a repeat
   * after an answer that was lost (5xx, reset, timeout) cannot change the outcome.
   */
  private async fetchJson(request: ClientRequest, call: CallOptions): Promise<Fetched> {
    const { settings, tokens, logger } = this.options;
    const correlationId = call.correlationId ?? randomUUID();
    const method = request.method ?? 'GET';
    const endpoint = `${method} ${request.path.split('?')[0]}`;
    const url = `${settings.baseUrl}${request.path}`;
    let reauthenticated = false;
    // The ids of the latest attempt, for the retry's log line.
    let ids: RequestIds = { correlationId };

    return withRetries<Fetched>(
      async (attempts) => {
        const requestId = randomUUID();
        ids = { requestId, correlationId };
        const { outcome, token } = await this.limiter.run(async () => {
          const token = await tokens.getAccessToken({ signal: call.signal });
          const startedAt = Date.now();
          const outcome = await send(this.http, {
            method,
            url,
            data: request.body,
            headers: {
              ...request.headers,
              Authorization: `Bearer ${token}`,
              Accept: 'application/json',
              'User-Agent': USER_AGENT,
              'MS-RequestId': requestId,
              'MS-CorrelationId': correlationId,
            },
            timeoutMs: settings.timeoutMs,
            signal: call.signal,
          });
          logger.debug('Partner Center request', {
            endpoint,
            outcome: outcome.kind === 'response' ? outcome.status : outcome.kind,
            ms: Date.now() - startedAt,
            ...ids,
          });
          return { outcome, token };
        }, call.signal);

        if (outcome.kind === 'aborted') throw new RequestAbortedError(endpoint);
        if (outcome.kind === 'timeout') {
          return {
            kind: 'retry',
            failure: new PartnerCenterTimeoutError(endpoint, settings.timeoutMs, ids, attempts),
          };
        }
        if (outcome.kind === 'network') {
          return {
            kind: 'retry',
            failure: new PartnerCenterNetworkError(endpoint, outcome.reason, ids, attempts),
          };
        }
        if (outcome.status >= 200 && outcome.status < 300) {
          try {
            return { kind: 'done', value: { body: parseJson(outcome.text), context: { ...ids, endpoint } } };
          } catch (error) {
            // A body that is not JSON at all is a transport accident (a cut or mangled answer);
            // the GET is safe to repeat. A wrong shape in valid JSON is not retried (see check).
            if (!(error instanceof ResponseShapeError)) throw error;
            return { kind: 'retry', failure: error.withContext({ ...ids, endpoint }) };
          }
        }
        if (outcome.status === 401 && !reauthenticated) {
          // The token expired or was revoked early: refresh it once and repeat, outside the retry budget.
          reauthenticated = true;
          tokens.invalidate(token);
          logger.info('Partner Center answered 401; refreshing the access token once', { endpoint, ...ids });
          return { kind: 'again' };
        }
        const error = httpError(outcome.status, outcome.text, {
          method,
          path: request.path,
          ids,
          attempts,
        });
        return retryOrThrow(outcome.status, error, outcome.headers['retry-after']);
      },
      loggedRetries({
        policy: this.retry,
        signal: call.signal,
        endpoint,
        random: this.random,
        logger,
        message: 'Partner Center request failed; retrying',
        context: () => ({ ...ids }),
      }),
    );
  }
}

function subscriptionPath(customerId: string, subscriptionId: string): string {
  return `/v1/customers/${encodeURIComponent(customerId)}/subscriptions/${encodeURIComponent(subscriptionId)}`;
}

function httpError(
  status: number,
  text: string,
  request: { method: string; path: string; ids: RequestIds; attempts: number },
): PartnerCenterError {
  const parsed = errorBodySchema.safeParse(tryParseJson(text));
  const body = parsed.success ? parsed.data : { pcCode: undefined, description: undefined };
  return new PartnerCenterError({
    status,
    pcCode: body.pcCode,
    // An HTML or plain-text error page: its first line is still worth quoting.
    description: body.description ?? (text.trim() ? text.trim().split('\n')[0].slice(0, 200) : undefined),
    method: request.method,
    path: request.path.split('?')[0],
    ...request.ids,
    attempts: request.attempts,
  });
}

function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix: PropertyKey[],
  context: RequestIds & { endpoint: string },
): z.output<S> {
  try {
    return validate(schema, value, prefix);
  } catch (error) {
    if (error instanceof ResponseShapeError) throw error.withContext(context);
    throw error;
  }
}
