import { AppError } from '../domain/errors';

export class SecretNotFoundError extends AppError {
  readonly code = 'SecretNotFound';
  constructor(readonly secretName: string) {
    super(`Secret "${secretName}" was not found in the secret store`);
  }
}

/** The store could not be reached or refused the call; never carries the value. */
export class SecretStoreError extends AppError {
  readonly code = 'SecretStoreUnavailable';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
