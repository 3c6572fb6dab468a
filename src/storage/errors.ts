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
