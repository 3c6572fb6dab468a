import type { HttpResponseInit } from '@azure/functions';
import { AppError } from '../domain/errors';

/** Every code the API answers with, so the OpenAPI document and the tests can list them. */
export const API_ERROR_CODES = [
  'InvalidCustomerId',
  'InvalidSubscriptionId',
  'InvalidQuery',
  'InvalidContinuationToken',
  'CustomerNotFound',
  'CustomerNotSnapshotted',
  'SubscriptionNotFound',
  'SubscriptionNotSnapshotted',
  'NoSnapshotYet',
  'RunAlreadyActive',
  'InvalidBody',
  'InvalidBudgetAmount',
  'UnsupportedMediaType',
  'PartnerCenterRefused',
  'PartnerCenterThrottled',
  'PartnerCenterUnavailable',
  'MethodNotAllowed',
  'RouteNotFound',
  'NotAcceptable',
  'StorageUnavailable',
  'ConfigurationInvalid',
  'InternalError',
  'InvalidResourceGroup',
  'ResourceGroupNotFound',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

const STATUS: Record<ApiErrorCode, number> = {
  InvalidCustomerId: 400,
  InvalidSubscriptionId: 400,
  InvalidQuery: 400,
  InvalidContinuationToken: 400,
  CustomerNotFound: 404,
  CustomerNotSnapshotted: 404,
  SubscriptionNotFound: 404,
  SubscriptionNotSnapshotted: 404,
  NoSnapshotYet: 404,
  RunAlreadyActive: 409,
  InvalidBody: 400,
  InvalidBudgetAmount: 400,
  UnsupportedMediaType: 415,
  PartnerCenterRefused: 502,
  PartnerCenterThrottled: 503,
  PartnerCenterUnavailable: 502,
  MethodNotAllowed: 405,
  RouteNotFound: 404,
  NotAcceptable: 406,
  StorageUnavailable: 503,
  ConfigurationInvalid: 503,
  InternalError: 500,
  InvalidResourceGroup: 400,
  ResourceGroupNotFound: 404,
};

/** A failure the caller caused or can act on; its message is safe to send back. */
export class ApiError extends AppError {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = STATUS[code];
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

export interface ErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** `{ "error": { "code", "message" } }` with the code's status; errors are never cached. */
export function errorResponse(error: ApiError): HttpResponseInit {
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  return {
    status: error.status,
    headers: {
      ...error.headers,
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    },
    body: JSON.stringify(body),
  };
}

/** Caller-supplied text quoted in a message: bounded and printable, so nothing odd echoes back. */
export function quote(value: string, max = 60): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > max ? `${printable.slice(0, max)}…` : printable);
}
