import { AppError } from '../domain/errors';
import { redact } from '../observability/redact';

/**
 * Errors of the Partner Center client (and of the Graph usage export client, src/graph/errors.ts,
 * which extends this base). Each is built from plain values the client chose to keep: never an
 * axios error, its config (which holds the Authorization header) or a response body, so
 * JSON.stringify and util.inspect of a thrown error cannot reveal a token. `toJSON` lists the
 * fields explicitly for the same reason.
 */
export abstract class PartnerCenterClientError extends AppError {
  constructor(message: string) {
    super(redact(message));
  }

  /** What a log line or an API error body may show; subclasses add their fields. */
  protected fields(): Record<string, unknown> {
    return {};
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.fields() };
  }
}

/** The ids an operator quotes to Microsoft support. */
export interface RequestIds {
  /** MS-RequestId of the last attempt. */
  requestId?: string;
  /** MS-CorrelationId shared by the run. */
  correlationId?: string;
}

export interface PartnerCenterErrorDetails extends RequestIds {
  status: number;
  /** Partner Center's numeric error code (`code` of its error body), when it sent one. */
  pcCode?: number;
  description?: string;
  method: string;
  /** Path and query below the base URL, e.g. /v1/customers/{id}/usagesummary. */
  path: string;
  /** Attempts made, retries included. */
  attempts: number;
}

/** Partner Center answered with an HTTP error (after any retries the status allowed). */
export class PartnerCenterError extends PartnerCenterClientError {
  readonly code = 'PartnerCenterHttp';
  readonly status: number;
  readonly pcCode?: number;
  readonly description?: string;
  readonly requestId?: string;
  readonly correlationId?: string;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;

  constructor(details: PartnerCenterErrorDetails) {
    const pc = details.pcCode !== undefined ? ` code ${details.pcCode}` : '';
    const description = details.description ? `: ${details.description}` : '';
    super(
      `Partner Center ${details.method} ${details.path} answered ${details.status}${pc}${description}` +
        ` (MS-RequestId ${details.requestId ?? 'none'}, MS-CorrelationId ${details.correlationId ?? 'none'}` +
        `${details.attempts > 1 ? `, after ${details.attempts} attempts` : ''})`,
    );
    this.status = details.status;
    this.pcCode = details.pcCode;
    this.description = details.description === undefined ? undefined : redact(details.description);
    this.requestId = details.requestId;
    this.correlationId = details.correlationId;
    this.method = details.method;
    this.path = details.path;
    this.attempts = details.attempts;
  }

  protected override fields(): Record<string, unknown> {
    return {
      status: this.status,
      pcCode: this.pcCode,
      description: this.description,
      requestId: this.requestId,
      correlationId: this.correlationId,
      method: this.method,
      path: this.path,
      attempts: this.attempts,
    };
  }
}

/**
 * Entra ID answered `invalid_grant` to the refresh-token grant: the refresh token expired
 * (AADSTS700082), needs MFA again (AADSTS50078) or was revoked. Retrying cannot help; a partner
 * user must consent again and the new refresh token must be stored in the secret store.
 */
export class ReconsentRequiredError extends PartnerCenterClientError {
  readonly code = 'ReconsentRequired';

  constructor(
    readonly aadstsCode: number | undefined,
    readonly traceId: string | undefined,
    readonly entraCorrelationId: string | undefined,
    readonly refreshTokenName: string,
  ) {
    super(
      `Entra ID rejected the Partner Center refresh token (invalid_grant${
        aadstsCode !== undefined ? `, AADSTS${aadstsCode}` : ''
      }). A partner user (with MFA) must consent to the app again and the new refresh token must be ` +
        `stored as secret "${refreshTokenName}"; the app will not call Partner Center until then.` +
        `${traceId ? ` Entra trace id ${traceId}` : ''}${entraCorrelationId ? `, correlation id ${entraCorrelationId}` : ''}.`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return {
      aadstsCode: this.aadstsCode,
      traceId: this.traceId,
      entraCorrelationId: this.entraCorrelationId,
      refreshTokenName: this.refreshTokenName,
    };
  }
}

/** The token endpoint failed for another reason (bad client secret, unknown app, outage). */
export class TokenRequestError extends PartnerCenterClientError {
  readonly code = 'TokenRequestFailed';

  constructor(
    readonly status: number | undefined,
    /** Entra's `error`, e.g. invalid_client; or a network error code. */
    readonly error: string | undefined,
    readonly aadstsCode: number | undefined,
    readonly traceId: string | undefined,
  ) {
    super(
      `The Entra ID token request failed${status !== undefined ? ` with ${status}` : ''}` +
        `${error ? ` (${error}${aadstsCode !== undefined ? `, AADSTS${aadstsCode}` : ''})` : ''}` +
        `${traceId ? `; Entra trace id ${traceId}` : ''}.`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { status: this.status, error: this.error, aadstsCode: this.aadstsCode, traceId: this.traceId };
  }
}

/** A response did not match the contract; `path` names the field, e.g. items[3].totalCost. */
export class ResponseShapeError extends PartnerCenterClientError {
  readonly code = 'ResponseShape';
  readonly requestId?: string;
  readonly correlationId?: string;
  readonly endpoint?: string;

  constructor(
    readonly path: string,
    readonly problem: string,
    context: RequestIds & { endpoint?: string } = {},
  ) {
    super(
      `Partner Center response ${context.endpoint ? `to ${context.endpoint} ` : ''}does not match the contract at ` +
        `${path}: ${problem}` +
        (context.requestId || context.correlationId
          ? ` (MS-RequestId ${context.requestId ?? 'none'}, MS-CorrelationId ${context.correlationId ?? 'none'})`
          : ''),
    );
    this.requestId = context.requestId;
    this.correlationId = context.correlationId;
    this.endpoint = context.endpoint;
  }

  /** The same problem, with the request it came from. */
  withContext(context: RequestIds & { endpoint: string }): ResponseShapeError {
    return new ResponseShapeError(this.path, this.problem, context);
  }

  protected override fields(): Record<string, unknown> {
    return {
      path: this.path,
      problem: this.problem,
      endpoint: this.endpoint,
      requestId: this.requestId,
      correlationId: this.correlationId,
    };
  }
}

/** A request got no complete answer within PARTNER_CENTER_TIMEOUT_SECONDS (after retries). */
export class PartnerCenterTimeoutError extends PartnerCenterClientError {
  readonly code = 'PartnerCenterTimeout';

  constructor(
    readonly endpoint: string,
    readonly timeoutMs: number,
    readonly ids: RequestIds,
    readonly attempts: number,
  ) {
    super(
      `Partner Center ${endpoint} did not answer within ${timeoutMs} ms (MS-RequestId ${ids.requestId ?? 'none'}, ` +
        `MS-CorrelationId ${ids.correlationId ?? 'none'}, ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { endpoint: this.endpoint, timeoutMs: this.timeoutMs, ...this.ids, attempts: this.attempts };
  }
}

/** The connection failed (refused, reset, cut mid-body) on every attempt allowed. */
export class PartnerCenterNetworkError extends PartnerCenterClientError {
  readonly code = 'PartnerCenterNetwork';

  constructor(
    readonly endpoint: string,
    /** Node's error code, e.g. ECONNRESET. */
    readonly reason: string,
    readonly ids: RequestIds,
    readonly attempts: number,
  ) {
    super(
      `Partner Center ${endpoint} failed: ${reason} (MS-RequestId ${ids.requestId ?? 'none'}, ` +
        `MS-CorrelationId ${ids.correlationId ?? 'none'}, ${attempts} attempt${attempts === 1 ? '' : 's'})`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { endpoint: this.endpoint, reason: this.reason, ...this.ids, attempts: this.attempts };
  }
}

/** The caller's AbortSignal fired; nothing more was sent. */
export class RequestAbortedError extends PartnerCenterClientError {
  readonly code = 'RequestAborted';

  constructor(readonly endpoint?: string) {
    super(`Partner Center request${endpoint ? ` ${endpoint}` : ''} was cancelled by the caller`);
  }

  protected override fields(): Record<string, unknown> {
    return { endpoint: this.endpoint };
  }
}

/** A budget amount the client will not send: not a plain non-negative decimal such as "1500" or "99.95". */
export class InvalidBudgetAmountError extends PartnerCenterClientError {
  readonly code = 'InvalidBudgetAmount';

  constructor(readonly amount: string) {
    super(
      `A spending budget must be a non-negative decimal number such as "1500" or "99.95", got "${amount.slice(0, 40)}"`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { amount: this.amount.slice(0, 40) };
  }
}
