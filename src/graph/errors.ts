import { redact } from '../observability/redact';
import { PartnerCenterClientError } from '../partnerCenter/errors';

/**
 * Errors of the Graph usage export client. Like the Partner Center client's (same base): built
 * from plain values, messages redacted, never a token, a SAS or a blob URL's query. Blob errors
 * name the blob, never its URL.
 */

/** The ids an operator quotes to Microsoft support. */
export interface GraphRequestIds {
  /** Graph's request-id (or Storage's x-ms-request-id) of the last attempt. */
  requestId?: string;
  /** The client-request-id the client sent on the last attempt. */
  clientRequestId?: string;
}

export interface GraphErrorDetails extends GraphRequestIds {
  status: number;
  /** Graph's `error.code` (e.g. BadRequest), or Storage's x-ms-error-code. */
  graphCode?: string;
  /** Graph's `error.message`, first line, redacted. */
  description?: string;
  method: string;
  /** Path below the host, without the query (a blob's SAS is never kept). */
  path: string;
  attempts: number;
}

/** Graph (or the export's storage) answered with an HTTP error, after any retries it allowed. */
export class GraphError extends PartnerCenterClientError {
  readonly code = 'GraphHttp';
  readonly status: number;
  readonly graphCode?: string;
  readonly description?: string;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly method: string;
  readonly path: string;
  readonly attempts: number;

  constructor(details: GraphErrorDetails) {
    super(
      `Microsoft Graph ${details.method} ${details.path} answered ${details.status}` +
        `${details.graphCode ? ` ${details.graphCode}` : ''}${details.description ? `: ${details.description}` : ''}` +
        ` (request-id ${details.requestId ?? 'none'}, client-request-id ${details.clientRequestId ?? 'none'}` +
        `${details.attempts > 1 ? `, after ${details.attempts} attempts` : ''})`,
    );
    this.status = details.status;
    this.graphCode = details.graphCode;
    this.description = details.description === undefined ? undefined : redact(details.description);
    this.requestId = details.requestId;
    this.clientRequestId = details.clientRequestId;
    this.method = details.method;
    this.path = details.path;
    this.attempts = details.attempts;
  }

  protected override fields(): Record<string, unknown> {
    return {
      status: this.status,
      graphCode: this.graphCode,
      description: this.description,
      requestId: this.requestId,
      clientRequestId: this.clientRequestId,
      method: this.method,
      path: this.path,
      attempts: this.attempts,
    };
  }
}

/**
 * The export cannot be read any more: its operation or manifest is gone (410), or the storage
 * refused the manifest's SAS (expired, 403 AuthenticationFailed, or 410). Retrying cannot help;
 * the caller starts a new export.
 */
export class ExportExpiredError extends PartnerCenterClientError {
  readonly code = 'ExportExpired';

  constructor(
    readonly reason: 'gone' | 'sasExpired' | 'sasRejected',
    /** The blob's name, or the Graph path (without query) that answered. */
    readonly resource: string,
    readonly status: number,
    readonly requestId?: string,
  ) {
    super(
      `The usage export is no longer readable (${
        reason === 'gone'
          ? `${status} Gone`
          : reason === 'sasExpired'
            ? 'its SAS has expired'
            : 'its SAS was refused'
      }) at ${resource}; start a new export (request-id ${requestId ?? 'none'})`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { reason: this.reason, resource: this.resource, status: this.status, requestId: this.requestId };
  }
}

/** A Graph answer did not match the contract; `path` names the field, e.g. blobs[3].name. */
export class GraphResponseShapeError extends PartnerCenterClientError {
  readonly code = 'GraphResponseShape';

  constructor(
    readonly path: string,
    readonly problem: string,
    readonly endpoint: string,
    readonly requestId?: string,
  ) {
    super(
      `Microsoft Graph response to ${endpoint} does not match the contract at ${path}: ${problem}` +
        ` (request-id ${requestId ?? 'none'})`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { path: this.path, problem: this.problem, endpoint: this.endpoint, requestId: this.requestId };
  }
}

/** No complete answer within the timeout (PARTNER_CENTER_TIMEOUT_SECONDS), after retries. */
export class GraphTimeoutError extends PartnerCenterClientError {
  readonly code = 'GraphTimeout';

  constructor(
    readonly endpoint: string,
    readonly timeoutMs: number,
    readonly attempts: number,
  ) {
    super(
      `Microsoft Graph ${endpoint} did not answer within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { endpoint: this.endpoint, timeoutMs: this.timeoutMs, attempts: this.attempts };
  }
}

/**
 * The connection failed (refused, reset) on every attempt allowed, or was cut in the middle of a
 * blob's body (`midBody`: the caller reads the blob again from its start).
 */
export class GraphNetworkError extends PartnerCenterClientError {
  readonly code = 'GraphNetwork';

  constructor(
    readonly endpoint: string,
    /** Node's error code, e.g. ECONNRESET. */
    readonly reason: string,
    readonly attempts: number,
    readonly midBody = false,
  ) {
    super(
      `Microsoft Graph ${endpoint} failed${midBody ? ' in the middle of the body' : ''}: ${reason}` +
        ` (${attempts} attempt${attempts === 1 ? '' : 's'})`,
    );
  }

  protected override fields(): Record<string, unknown> {
    return { endpoint: this.endpoint, reason: this.reason, attempts: this.attempts, midBody: this.midBody };
  }
}

/** A URL the client will not use: not https://, and not http:// to a loopback host. */
export class InsecureUrlError extends PartnerCenterClientError {
  readonly code = 'InsecureUrl';

  constructor(
    /** What the URL was for: "blob part-00001…", "manifest link". */
    readonly purpose: string,
    readonly problem: string,
  ) {
    super(`Refusing the ${purpose} URL: it ${problem}`);
  }

  protected override fields(): Record<string, unknown> {
    return { purpose: this.purpose, problem: this.problem };
  }
}

/** An export request the client will not send (before any request is made). */
export class InvalidExportRequestError extends PartnerCenterClientError {
  readonly code = 'InvalidExportRequest';

  constructor(readonly problem: string) {
    super(`Invalid usage export request: ${problem}`);
  }

  protected override fields(): Record<string, unknown> {
    return { problem: this.problem };
  }
}

/** One line of a blob that is not a usable line item; the rest of the blob is unaffected. */
export class LineItemError extends PartnerCenterClientError {
  readonly code = 'LineItemInvalid';

  constructor(
    /** The field at fault (PascalCase name as documented), or `$` for the line itself. */
    readonly field: string,
    readonly problem: string,
  ) {
    super(`Usage line item rejected at ${field}: ${problem}`);
  }

  protected override fields(): Record<string, unknown> {
    return { field: this.field, problem: this.problem };
  }
}
