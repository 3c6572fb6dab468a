import type { AxiosInstance } from 'axios';
import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import { registerSecret } from '../observability/redact';
import { abortable } from '../partnerCenter/abortable';
import { requestEntraToken, type TokenProvider } from '../partnerCenter/auth';
import { RequestAbortedError } from '../partnerCenter/errors';
import { DEFAULT_RETRY, type RetryPolicy } from '../partnerCenter/retry';
import { createHttp } from '../partnerCenter/transport';
import type { SecretStore } from '../secrets/secretStore';

/** Graph's application-permission scope (PartnerBilling.Read.All is granted to the app). */
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';

export interface ClientCredentialsTokenProviderOptions {
  /** authorityHost, tenantId, clientId, timeoutMs, maxRetries: the same app registration. */
  settings: Settings['partnerCenter'];
  secretStore: SecretStore;
  secretNames: Pick<Settings['secrets'], 'clientSecretName'>;
  logger: Logger;
  http?: AxiosInstance;
  /** Refresh this long before expiry (default 5 minutes, at most half the token's life). */
  expiryMarginMs?: number;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

/**
 * App-only tokens for Microsoft Graph: the client credentials grant of the Partner Center app
 * registration (its secret from the secret store) against PARTNER_CENTER_AUTHORITY_HOST, scope
 * https://graph.microsoft.com/.default. Cached until shortly before expiry; concurrent callers
 * share one grant. The secret and every token are registered for redaction before use.
 */
export class ClientCredentialsTokenProvider implements TokenProvider {
  private readonly http: AxiosInstance;
  private readonly now: () => number;
  private readonly retry: RetryPolicy;
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: ClientCredentialsTokenProviderOptions) {
    this.http = options.http ?? createHttp();
    this.now = options.now ?? Date.now;
    this.retry = { ...DEFAULT_RETRY, maxRetries: options.settings.maxRetries, ...options.retry };
  }

  async getAccessToken(options: { signal?: AbortSignal } = {}): Promise<string> {
    if (options.signal?.aborted) throw new RequestAbortedError('Graph token request');
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return cached.token;
    this.pending ??= this.grant().finally(() => {
      this.pending = undefined;
    });
    return abortable(this.pending, options.signal);
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async grant(): Promise<string> {
    const { settings, secretStore, secretNames, logger } = this.options;
    const clientSecret = await secretStore.getSecret(secretNames.clientSecretName);
    registerSecret(clientSecret);
    const startedAt = this.now();
    const answer = await requestEntraToken({
      http: this.http,
      settings,
      form: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: settings.clientId,
        client_secret: clientSecret,
        scope: GRAPH_SCOPE,
      }),
      retry: this.retry,
      logger,
      now: this.now,
    });
    registerSecret(answer.access_token);
    const lifetimeMs = answer.expires_in * 1000;
    const margin = Math.min(this.options.expiryMarginMs ?? 5 * 60_000, lifetimeMs / 2);
    this.cached = { token: answer.access_token, refreshAt: startedAt + lifetimeMs - margin };
    logger.debug('Graph access token granted', { expiresInSeconds: answer.expires_in });
    return answer.access_token;
  }
}
