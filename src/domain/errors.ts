/**
 * Failures a caller can act on are named classes with a stable `code`; tests and handlers branch
 * on the code, never on message text. Messages never contain a secret or a token.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

export function errorCode(error: unknown): string | undefined {
  return isAppError(error) ? error.code : undefined;
}
