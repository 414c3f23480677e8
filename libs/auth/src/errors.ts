import { isNatsOutage } from '@cb/nats';

/**
 * `UNAVAILABLE`: NATS could not answer a lookup, a session write or a rate-limit lease (an outage;
 * the cause says which): the request may succeed later (HTTP: 503 with Retry-After), it is no
 * authentication failure. `SESSION_FROM_SESSION`: a session cannot make a session (it would
 * outlive a revocation of its parent). `INVALID_RECORD`: a record that does not match its schema.
 */
export type AuthErrorCode = 'UNAVAILABLE' | 'SESSION_FROM_SESSION' | 'INVALID_RECORD';

export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
  }
}

/** Run NATS work; an outage becomes AuthError UNAVAILABLE (naming `what`), anything else is rethrown. */
export async function unavailableOnOutage<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isNatsOutage(err)) {
      throw new AuthError('UNAVAILABLE', `NATS could not serve the ${what}`, { cause: err });
    }
    throw err;
  }
}
