import { errorCode } from '../domain/errors';

/** What a customer's failure records: the error's code, HTTP status if any, and message. */
export function failureOf(error: unknown): { code: string; status?: number; message: string } {
  const status = (error as { status?: unknown }).status;
  return {
    code: errorCode(error) ?? (error as { code?: unknown }).code?.toString() ?? 'Error',
    status: typeof status === 'number' ? status : undefined,
    message: error instanceof Error ? error.message : String(error),
  };
}

/** A run's failure reason: what failed, then the error's code, status and message (≤ 2000 chars). */
export function reasonOf(what: string, error: unknown): string {
  const f = failureOf(error);
  return `${what}: ${f.code}${f.status !== undefined ? ` ${f.status}` : ''}: ${f.message}`.slice(0, 2000);
}
