import { randomUUID } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { USER_AGENT } from '../version';
import { abortable } from './abortable';
import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import { registerSecret } from '../observability/redact';
import type { SecretStore } from '../secrets/secretStore';
import { ReconsentRequiredError, RequestAbortedError, TokenRequestError } from './errors';
import { isLosslessNumber, tryParseJson } from './json';
import {
  DEFAULT_RETRY,
  parseRetryAfter,
  sleep,
  withRetries,
  type AttemptOutcome,
  type RetryPolicy,
} from './retry';
import { createHttp, send } from './transport';

/** Where the Partner Center client gets its bearer tokens. */
export interface TokenProvider {
  /** A valid access token, from cache when it is not close to expiry. */
  getAccessToken(options?: { signal?: AbortSignal }): Promise<string>;
  /** Partner Center refused `token` (401): drop it if it is still the cached one. */
  invalidate(token: string): void;
}

export interface RefreshTokenProviderOptions {
  settings: Settings['partnerCenter'];
  secretStore: SecretStore;
  /** Settings['secrets'] will do. */
  secretNames: Pick<Settings['secrets'], 'clientSecretName' | 'refreshTokenName'>;
  logger: Logger;
  /** Shared with the Partner Center client; one is created when absent. */
  http?: AxiosInstance;
  /** Refresh this long before expiry (default 5 minutes, at most half the token's life). */
  expiryMarginMs?: number;
  /** Writes of a rotated refresh token: attempts now, spaced delayMs * 2^n (default 3, 500 ms). */
  persistAttempts?: number;
  persistDelayMs?: number;
  /** After those fail, another write is tried at most this often, on later calls (default 30 s). */
  persistRetryIntervalMs?: number;
  /** Retries of the token request on 429/5xx/network errors (maxRetries from settings). */
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

const tokenResponseSchema = z.object({
  access_token: z.string().min(1),
  // Entra v2 sends a number; v1 sent a string. Either way, seconds.
  expires_in: z.union([
    z.custom((v) => isLosslessNumber(v)).transform((v) => Number((v as { value: string }).value)),
    z.string().regex(/^\d+$/).transform(Number),
  ]),
  refresh_token: z.string().min(1).optional(),
});

const entraErrorSchema = z.object({
  error: z.string().optional(),
  error_codes: z.array(z.unknown()).optional(),
  trace_id: z.string().optional(),
  correlation_id: z.string().optional(),
});

export type EntraTokenResponse = z.output<typeof tokenResponseSchema>;

/** What Entra said when it refused a grant. */
export interface EntraRefusal {
  status: number;
  error?: string;
  aadstsCode?: number;
  traceId?: string;
  correlationId?: string;
}

export interface EntraTokenRequest {
  http: AxiosInstance;
  settings: Pick<Settings['partnerCenter'], 'authorityHost' | 'tenantId' | 'timeoutMs'>;
  /** The grant, client secret included (registered as a secret by the caller). */
  form: URLSearchParams;
  retry: RetryPolicy;
  logger: Logger;
  now?: () => number;
  /** Turns a refusal the caller knows into its own error (thrown at once, never retried). */
  refuse?: (refusal: EntraRefusal) => Error | undefined;
}

/**
 * One grant at PARTNER_CENTER_AUTHORITY_HOST's token endpoint, for any grant type: retried on
 * 429/408/5xx/network errors and timeouts (Retry-After honoured); other refusals throw
 * TokenRequestError, or the caller's own error from `refuse`. Shared by the App+User refresh
 * grant here and the app-only client credentials grant of the Graph client.
 */
export async function requestEntraToken(request: EntraTokenRequest): Promise<EntraTokenResponse> {
  const { settings, logger } = request;
  const url = `${settings.authorityHost}/${encodeURIComponent(settings.tenantId)}/oauth2/v2.0/token`;
  return withRetries(
    async (): Promise<AttemptOutcome<EntraTokenResponse>> => {
      const outcome = await send(request.http, {
        method: 'POST',
        url,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
          'client-request-id': randomUUID(),
        },
        data: request.form.toString(),
        timeoutMs: settings.timeoutMs,
      });

      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
        const parsed = tokenResponseSchema.safeParse(tryParseJson(outcome.text));
        if (parsed.success) return { kind: 'done', value: parsed.data };
        throw new TokenRequestError(outcome.status, 'unreadable token response', undefined, undefined);
      } else if (outcome.kind === 'response') {
        const body = entraErrorSchema.safeParse(tryParseJson(outcome.text));
        const entra = body.success ? body.data : {};
        const aadsts = entra.error_codes
          ?.map((c) => Number(isLosslessNumber(c) ? c.value : c))
          .find(Number.isFinite);
        const refused = request.refuse?.({
          status: outcome.status,
          error: entra.error,
          aadstsCode: aadsts,
          traceId: entra.trace_id,
          correlationId: entra.correlation_id,
        });
        if (refused) throw refused;
        const failure = new TokenRequestError(outcome.status, entra.error, aadsts, entra.trace_id);
        const retryable = outcome.status === 429 || outcome.status === 408 || outcome.status >= 500;
        if (!retryable) throw failure;
        return { kind: 'retry', failure, retryAfterMs: parseRetryAfter(outcome.headers['retry-after']) };
      } else if (outcome.kind === 'aborted') {
        throw new RequestAbortedError('token request');
      }
      const reason = outcome.kind === 'timeout' ? `timeout after ${settings.timeoutMs} ms` : outcome.reason;
      return { kind: 'retry', failure: new TokenRequestError(undefined, reason, undefined, undefined) };
    },
    {
      policy: request.retry,
      now: request.now,
      onRetry: ({ failure, retry, delayMs }) =>
        logger.warn('Entra token request failed; retrying', {
          reason: failure.message,
          attempt: retry,
          delayMs,
        }),
    },
  );
}

interface CachedToken {
  token: string;
  refreshAt: number;
}

/**
 * The secure application model's App+User tokens: a refresh-token grant against
 * PARTNER_CENTER_AUTHORITY_HOST with the client secret and the stored refresh token.
 *
 * - The access token is cached until shortly before expiry; concurrent callers share one refresh.
 * - Entra rotates refresh tokens. The newest is kept in memory and written back to the secret
 *   store as a new version; a failed write is retried (now, then on later calls, and by
 *   `flushRotation`), logged, and never loses the token: memory keeps using it.
 * - `invalid_grant` means a person must consent again: it throws ReconsentRequiredError, logs
 *   RefreshTokenRejected, and the same refresh token is never sent to Entra again by this process,
 *   so a run fails fast instead of storming the token endpoint. Storing a new refresh token in
 *   the secret store (after consent) makes the next call try again.
 */
export class RefreshTokenProvider implements TokenProvider {
  private readonly http: AxiosInstance;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private cached: CachedToken | undefined;
  private refreshing: Promise<string> | undefined;
  /** The newest refresh token Entra gave this process; preferred over the store's copy. */
  private latestRefreshToken: string | undefined;
  private unpersisted: string | undefined;
  private lastPersistAttemptAt = 0;
  private writes: Promise<unknown> = Promise.resolve();
  private rejected: { refreshToken: string; error: ReconsentRequiredError } | undefined;

  constructor(private readonly options: RefreshTokenProviderOptions) {
    this.http = options.http ?? createHttp();
    this.now = options.now ?? Date.now;
    this.retry = { ...DEFAULT_RETRY, maxRetries: options.settings.maxRetries, ...options.retry };
  }

  async getAccessToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    if (options.signal?.aborted) throw new RequestAbortedError();
    this.retryPendingWrite();
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return cached.token;
    // One refresh for every concurrent caller. It is not tied to one caller's signal (the others
    // still want it); each caller may stop waiting for it.
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return abortable(this.refreshing, options.signal);
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  /**
   * Writes a rotated refresh token whose earlier writes failed. Resolves true when nothing is left
   * unwritten; a run calls this before it ends so no rotation is lost with the process.
   */
  async flushRotation(): Promise<boolean> {
    await this.writes;
    const pending = this.unpersisted;
    if (pending === undefined) return true;
    return this.enqueueWrite(pending);
  }

  /** True while a rotated refresh token lives only in memory. */
  get hasUnpersistedRotation(): boolean {
    return this.unpersisted !== undefined;
  }

  private async refresh(): Promise<string> {
    const { secretStore, secretNames, settings, logger } = this.options;
    const clientSecret = await secretStore.getSecret(secretNames.clientSecretName);
    registerSecret(clientSecret);
    const refreshToken = this.unpersisted ?? (await this.storedRefreshToken());
    registerSecret(refreshToken);
    if (this.rejected?.refreshToken === refreshToken) throw this.rejected.error;

    const form = new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: settings.clientId,
      client_secret: clientSecret,
      refresh_token: refreshToken,
      scope: settings.scope,
    });
    const startedAt = this.now();
    const answer = await this.requestToken(form);
    registerSecret(answer.access_token);
    registerSecret(answer.refresh_token);

    const lifetimeMs = answer.expires_in * 1000;
    const margin = Math.min(this.options.expiryMarginMs ?? 5 * 60_000, lifetimeMs / 2);
    this.cached = { token: answer.access_token, refreshAt: startedAt + lifetimeMs - margin };
    logger.debug('Partner Center access token refreshed', { expiresInSeconds: answer.expires_in });

    if (answer.refresh_token && answer.refresh_token !== refreshToken) {
      this.latestRefreshToken = answer.refresh_token;
      await this.enqueueWrite(answer.refresh_token);
    }
    return answer.access_token;
  }

  /**
   * The store is the source of truth: another instance (Flex Consumption scales out) or another
   * process may have rotated the token since this one last did, and the token this instance
   * remembers then lapses after Entra's grace period. Memory wins only while a rotation could not
   * be written (`unpersisted`), or when the store cannot be read at all.
   */
  private async storedRefreshToken(): Promise<string> {
    const { secretStore, secretNames, logger } = this.options;
    try {
      return await secretStore.getSecret(secretNames.refreshTokenName);
    } catch (error) {
      if (this.latestRefreshToken === undefined) throw error;
      logger.warn(
        'Could not read the refresh token from the secret store; using the one this process holds',
        {
          secretName: secretNames.refreshTokenName,
          error,
        },
      );
      return this.latestRefreshToken;
    }
  }

  private async requestToken(form: URLSearchParams): Promise<EntraTokenResponse> {
    const { settings, secretNames, logger } = this.options;
    return requestEntraToken({
      http: this.http,
      settings,
      form,
      retry: this.retry,
      logger,
      now: this.now,
      refuse: (entra) => {
        if (entra.error !== 'invalid_grant' && entra.error !== 'interaction_required') return undefined;
        const error = new ReconsentRequiredError(
          entra.aadstsCode,
          entra.traceId,
          entra.correlationId,
          secretNames.refreshTokenName,
        );
        const rejectedToken = form.get('refresh_token') ?? '';
        this.rejected = { refreshToken: rejectedToken, error };
        if (this.latestRefreshToken === rejectedToken) this.latestRefreshToken = undefined;
        this.cached = undefined;
        logger.event('RefreshTokenRejected', {
          error: entra.error,
          aadstsCode: entra.aadstsCode,
          traceId: entra.traceId,
          correlationId: entra.correlationId,
          secretName: secretNames.refreshTokenName,
          action: 'A partner user must consent again and the new refresh token must be stored.',
        });
        return error;
      },
    });
  }

  /** Writes run one after another, so an older token can never land after a newer one. */
  private enqueueWrite(token: string): Promise<boolean> {
    const write = this.writes.then(() => this.persist(token));
    this.writes = write.catch(() => undefined);
    return write;
  }

  private async persist(token: string): Promise<boolean> {
    const { secretStore, secretNames, logger } = this.options;
    // Superseded while queued: the newer token's own write follows.
    if (token !== this.latestRefreshToken) return true;
    const attempts = this.options.persistAttempts ?? 3;
    const delayMs = this.options.persistDelayMs ?? 500;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      this.lastPersistAttemptAt = this.now();
      try {
        await secretStore.setSecret(secretNames.refreshTokenName, token);
        // This token was the newest when the write began (writes are serialised), so any token
        // still marked unwritten is older and moot: clear it, or it would be retried forever.
        this.unpersisted = undefined;
        logger.event('RefreshTokenRotated', { secretName: secretNames.refreshTokenName, attempts: attempt });
        return true;
      } catch (error) {
        logger.warn(
          'Could not store the rotated Partner Center refresh token; the new token stays in memory',
          {
            secretName: secretNames.refreshTokenName,
            attempt,
            of: attempts,
            error,
          },
        );
        if (attempt < attempts) await sleep(delayMs * 2 ** (attempt - 1));
      }
    }
    this.unpersisted = token;
    logger.event('RefreshTokenPersistFailed', {
      secretName: secretNames.refreshTokenName,
      attempts,
      action: 'The token stays in memory and the write is retried on later calls.',
    });
    return false;
  }

  private retryPendingWrite(): void {
    const pending = this.unpersisted;
    if (pending === undefined) return;
    if (this.now() - this.lastPersistAttemptAt < (this.options.persistRetryIntervalMs ?? 30_000)) return;
    this.lastPersistAttemptAt = this.now();
    void this.enqueueWrite(pending);
  }
}
