import { randomUUID } from 'node:crypto';
import { formatEntraTimestamp } from './clock';
import type { JsonValue } from './json';

/** What a handler answers before the server writes it (headers, BOM, faults). */
export interface SandboxResponse {
  status: number;
  body: JsonValue;
  headers?: Record<string, string>;
  /** Overrides the sandbox-wide BOM setting for this body. */
  bom?: boolean;
}

/** Partner Center's error body: `{code, description, data, source: "PartnerFD"}`. */
export function partnerCenterError(
  status: number,
  code: number,
  description: string,
  headers?: Record<string, string>,
): SandboxResponse {
  return { status, body: { code, description, data: [], source: 'PartnerFD' }, headers };
}

export const pcErrors = {
  notAGuid: () => partnerCenterError(400, 2000, 'Tenant Id must be a GUID.'),
  customerNotFound: (id: string) => partnerCenterError(404, 60003, `Tenant not found: ${id}.`),
  subscriptionNotFound: (id: string) =>
    partnerCenterError(404, 20003, `Subscription id '${id}' provided was not found under this customer.`),
  noUsageData: () => partnerCenterError(404, 3000, 'Customer does not have usage data.'),
  // Assumed: the notes say only that Azure plans are not served by this call.
  azurePlanResources: () =>
    partnerCenterError(
      400,
      2000,
      'Resource usage records are not available for an Azure plan. Use the meter usage records instead.',
    ),
  // Assumed, mirroring azurePlanResources: the notes say only that these calls are not supported
  // for MS-AZR-0145P. 400/2000 is Partner Center's documented "bad input" pair.
  legacySubscription: (call: string) =>
    partnerCenterError(
      400,
      2000,
      `${call} are only available for an Azure plan. Use the usage records of resources for a Microsoft Azure (MS-AZR-0145P) subscription instead.`,
    ),
  badBudget: (why: string) => partnerCenterError(400, 2000, `Invalid spending budget: ${why}.`),
  badContinuationToken: (why: string) => partnerCenterError(400, 2000, `Invalid continuation token: ${why}.`),
  routeNotFound: () => partnerCenterError(404, 1000, 'The requested resource was not found.'),
  methodNotAllowed: () => partnerCenterError(405, 1000, 'The requested HTTP method is not allowed.'),
  internal: () => partnerCenterError(500, 5000, 'An internal error occurred. Please try again later.'),
  unavailable: () =>
    partnerCenterError(503, 5001, 'The service is temporarily unavailable. Please try again later.'),
};

/** The 401 for a missing, malformed, unknown or expired bearer token. */
export function unauthorized(realm: string, description: string, code = 400): SandboxResponse {
  return partnerCenterError(401, code, description, { 'WWW-Authenticate': `OAuth realm=${realm}` });
}

/** The throttling answer; its body is the gateway's, not PartnerFD's. */
export function tooManyRequests(retryAfterSeconds: number): SandboxResponse {
  return {
    status: 429,
    body: { statusCode: 429, message: `Rate limit is exceeded. Try again in ${retryAfterSeconds} seconds.` },
    headers: { 'Retry-After': String(retryAfterSeconds) },
    // Assumed: the gateway writes this body itself, without the BOM PartnerFD puts on its own.
    bom: false,
  };
}

/** Entra ID's token-endpoint error body. */
export function entraError(
  status: number,
  error: string,
  code: number,
  message: string,
  nowMs: number,
  correlationId: string,
): SandboxResponse {
  const traceId = randomUUID();
  const timestamp = formatEntraTimestamp(nowMs);
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
    bom: false,
  };
}
