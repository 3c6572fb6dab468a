import { randomBytes } from 'node:crypto';
import type { SandboxClock } from './clock';
import { entraError, type SandboxResponse } from './errors';

export const PARTNER_CENTER_RESOURCE = 'https://api.partnercenter.microsoft.com';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

/** The API a token was issued for: Partner Center refuses Graph tokens and Graph Partner Center's. */
export type Audience = 'partnerCenter' | 'graph';

export interface TokenSettings {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The refresh token "consented" before the sandbox started; it does not age. */
  refreshToken: string;
  accessTokenLifetimeSeconds: number;
  /** How long a refresh token keeps working after it was exchanged for a newer one. */
  refreshGraceSeconds: number;
  /** Lifetime of refresh tokens the sandbox issues (Entra: about 90 days). */
  refreshTokenLifetimeSeconds: number;
}

export type GrantType = 'refresh_token' | 'client_credentials';

/** What a bearer token stands for. */
export interface AccessGrant {
  appOnly: boolean;
  audience: Audience;
  /** App+User tokens carry the MFA claim unless issued otherwise by a test. */
  mfa: boolean;
  expiresAt: number;
}

interface RefreshGrant {
  /** undefined for the configured token, which never ages. */
  issuedAt: number | undefined;
  supersededAt: number | undefined;
  revoked: boolean;
  mfa: boolean;
}

export type Authentication = { ok: true; grant: AccessGrant } | { ok: false; description: string };

export interface GrantResult {
  response: SandboxResponse;
  issued: GrantType | undefined;
}

/**
 * The Entra ID side: grants tokens on `POST /{tenant}/oauth2/v2.0/token` and checks bearer tokens
 * on Partner Center calls. Every expiry is measured on the sandbox clock, so tests move past it
 * with `clock.advance` instead of sleeping.
 */
export class TokenAuthority {
  private readonly accessTokens = new Map<string, AccessGrant>();
  private readonly refreshTokens = new Map<string, RefreshGrant>();
  private newest: string;

  constructor(
    private readonly settings: TokenSettings,
    private readonly clock: SandboxClock,
  ) {
    this.refreshTokens.set(settings.refreshToken, {
      issuedAt: undefined,
      supersededAt: undefined,
      revoked: false,
      mfa: true,
    });
    this.newest = settings.refreshToken;
  }

  /** The most recently issued refresh token. */
  get latestRefreshToken(): string {
    return this.newest;
  }

  grant(tenant: string, form: URLSearchParams, correlationId: string): GrantResult {
    const now = this.clock.now();
    const fail = (status: number, error: string, code: number, message: string): GrantResult => ({
      response: entraError(status, error, code, message, now, correlationId),
      issued: undefined,
    });

    if (tenant.toLowerCase() !== this.settings.tenantId.toLowerCase()) {
      return fail(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    }
    const grantType = form.get('grant_type');
    if (grantType !== 'refresh_token' && grantType !== 'client_credentials') {
      return fail(
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grantType ?? ''}'.`,
      );
    }
    const clientId = form.get('client_id');
    if (!clientId)
      return fail(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    if (clientId !== this.settings.clientId) {
      return fail(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory.`,
      );
    }
    if (form.get('client_secret') !== this.settings.clientSecret) {
      return fail(401, 'invalid_client', 7000215, 'Invalid client secret provided.');
    }
    const scope = form.get('scope') ?? '';

    if (grantType === 'client_credentials') {
      const resource = [PARTNER_CENTER_RESOURCE, GRAPH_RESOURCE].find(
        (r) => scope.trim() === `${r}/.default`,
      );
      if (!resource) {
        return fail(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope '${scope}' is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier.`,
        );
      }
      const audience: Audience = resource === GRAPH_RESOURCE ? 'graph' : 'partnerCenter';
      const accessToken = this.issueAccessToken({ appOnly: true, audience });
      return {
        response: {
          status: 200,
          body: this.tokenBody(accessToken, undefined, `${resource}/.default`),
          bom: false,
        },
        issued: 'client_credentials',
      };
    }

    if (scope !== '' && !scope.includes(`${PARTNER_CENTER_RESOURCE}/`)) {
      return fail(
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid: '${scope}'.`,
      );
    }
    const presented = form.get('refresh_token');
    if (!presented)
      return fail(
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'refresh_token'.",
      );
    const record = this.refreshTokens.get(presented);
    if (!record)
      return fail(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    if (record.revoked) {
      return fail(
        400,
        'invalid_grant',
        50173,
        'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
      );
    }
    if (
      record.supersededAt !== undefined &&
      now > record.supersededAt + this.settings.refreshGraceSeconds * 1000
    ) {
      return fail(
        400,
        'invalid_grant',
        700082,
        `The refresh token has expired: it was replaced at ${new Date(record.supersededAt).toISOString()} and its ${this.settings.refreshGraceSeconds}s grace period is over.`,
      );
    }
    if (
      record.issuedAt !== undefined &&
      now > record.issuedAt + this.settings.refreshTokenLifetimeSeconds * 1000
    ) {
      return fail(
        400,
        'invalid_grant',
        700082,
        `The refresh token has expired due to inactivity. The token was issued on ${new Date(record.issuedAt).toISOString()}.`,
      );
    }

    record.supersededAt ??= now;
    const refreshToken = this.mint('rt');
    this.refreshTokens.set(refreshToken, {
      issuedAt: now,
      supersededAt: undefined,
      revoked: false,
      mfa: record.mfa,
    });
    this.newest = refreshToken;
    const accessToken = this.issueAccessToken({ appOnly: false, mfa: record.mfa });
    return {
      response: {
        status: 200,
        body: this.tokenBody(accessToken, refreshToken, `${PARTNER_CENTER_RESOURCE}/user_impersonation`),
        bom: false,
      },
      issued: 'refresh_token',
    };
  }

  /** Checks an Authorization header value. */
  authenticate(authorization: string | undefined): Authentication {
    if (!authorization)
      return { ok: false, description: 'Access is denied. The request has no bearer token.' };
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match)
      return { ok: false, description: 'Access is denied. The Authorization header is not a bearer token.' };
    const grant = this.accessTokens.get(match[1]);
    if (!grant)
      return { ok: false, description: 'Access is denied. The token was not issued for this service.' };
    if (this.clock.now() >= grant.expiresAt)
      return { ok: false, description: 'Access is denied. The token has expired.' };
    return { ok: true, grant };
  }

  issueAccessToken(options: {
    appOnly: boolean;
    mfa?: boolean;
    lifetimeSeconds?: number;
    audience?: Audience;
  }): string {
    const now = this.clock.now();
    if (this.accessTokens.size > 10_000) {
      for (const [token, grant] of this.accessTokens)
        if (grant.expiresAt <= now) this.accessTokens.delete(token);
    }
    const token = this.mint('at');
    const lifetime = options.lifetimeSeconds ?? this.settings.accessTokenLifetimeSeconds;
    this.accessTokens.set(token, {
      appOnly: options.appOnly,
      audience: options.audience ?? 'partnerCenter',
      mfa: options.mfa ?? true,
      expiresAt: now + lifetime * 1000,
    });
    return token;
  }

  /** Returns false when the sandbox never issued that refresh token. */
  revokeRefreshToken(token: string): boolean {
    const record = this.refreshTokens.get(token);
    if (record) record.revoked = true;
    return record !== undefined;
  }

  private tokenBody(accessToken: string, refreshToken: string | undefined, scope: string) {
    const lifetime = this.settings.accessTokenLifetimeSeconds;
    return {
      token_type: 'Bearer',
      scope,
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
      refresh_token: refreshToken,
    };
  }

  private mint(kind: 'at' | 'rt'): string {
    return `sandbox.${kind}.${randomBytes(24).toString('base64url')}`;
  }
}
