import { AppError } from '../domain/errors';

/** A run is already queued or running; `runId` names it. */
export class RunAlreadyActiveError extends AppError {
  readonly code = 'RunAlreadyActive';
  constructor(readonly runId: string) {
    super(`Snapshot run ${runId} is already queued or running`);
  }
}

/** The snapshot lease was taken over (it lapsed while this holder was stalled): stop writing. */
export class LeaseLostError extends AppError {
  readonly code = 'LeaseLost';
}

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

/** Table Storage sent no response headers within the request timeout (STORAGE_TIMEOUT_SECONDS). */
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

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Storage is down or overloaded rather than the request being wrong: a timeout, a connection that
 * failed, or a 500/503 (ServerBusy) that outlived the SDK's retries. Callers may try again later.
 */
export function isStorageUnavailable(error: unknown): boolean {
  if (error instanceof StorageTimeoutError) return true;
  const status = storageStatus(error);
  if (status === 500 || status === 503) return true;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code) && status === undefined;
}
