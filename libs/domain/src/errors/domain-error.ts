import { type ErrorCode, type FieldError } from '@cb/schemas';

/**
 * An expected failure of a domain rule. Callers branch on `code` (never on `message`); `details`
 * is JSON-serialisable and crosses NATS as `ErrorBody.details`.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: ErrorCode;
  // `declare`: no own `details: undefined` when absent, so serialised errors stay clean.
  declare readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/**
 * One error carrying every field problem (`details.errors`), not just the first. Its code is
 * the first problem's own code (a guard limit, say) or VALIDATION_ERROR; each problem that has a
 * code of its own keeps it.
 */
export function validationError(message: string, errors: FieldError[]): DomainError {
  const code = errors[0]?.code ?? 'VALIDATION_ERROR';
  return new DomainError(code, message, { errors });
}
