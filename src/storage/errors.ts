import { AppError } from '../domain/errors';

/** Table Storage answered with this HTTP status (a RestError), or undefined for anything else. */
export function storageStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export const isNotFound = (error: unknown) => storageStatus(error) === 404;
export const isConflict = (error: unknown) => storageStatus(error) === 409;
export const isPreconditionFailed = (error: unknown) => storageStatus(error) === 412;

/** A continuation token this adapter did not issue (or that was altered). */
export class InvalidContinuationTokenError extends AppError {
  readonly code = 'InvalidContinuationToken';
}

/** Table Storage did not answer a request within the timeout (STORAGE_TIMEOUT_SECONDS), twice. */
export class StorageTimeoutError extends AppError {
  readonly code = 'StorageTimeout';
  constructor(
    readonly timeoutMs: number,
    method: string,
    path: string,
  ) {
    super(`Table Storage did not answer ${method} ${path} within ${timeoutMs / 1000} s`);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  // The SDK's own: a request that could not be sent, a body cut off mid-way.
  'REQUEST_SEND_ERROR',
  'PARSE_ERROR',
]);

/**
 * Storage is down or overloaded rather than the request being wrong: a timeout, a connection that
 * failed, or a 500/503 (ServerBusy) that outlived the SDK's retries. Callers may try again later.
 * Only the SDK's RestError counts (besides our own timeout), so no other component's error with a
 * similar code or status is taken for a storage outage.
 */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageTimeoutError) return true;
  if ((error as { name?: unknown } | undefined)?.name !== 'RestError') return false;
  const status = storageStatus(error);
  if (status === 500 || status === 503) return true;
  const code = (error as { code?: unknown }).code;
  return status === undefined && typeof code === 'string' && NETWORK_CODES.has(code);
}
