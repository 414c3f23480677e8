import { statusOf, titleOf, type ErrorCode, type Problem } from '@cb/schemas';

/** An error the API reports as problem+json with a stable code. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.status = statusOf(code);
  }
}

/** RFC 9457 problem details; `details` become extension members (e.g. `failures`, `errors`). */
export function toProblem(
  code: ErrorCode,
  detail: string,
  details: Record<string, unknown> | undefined,
  instance: string | undefined,
  requestId: string,
): Problem {
  const reserved = new Set(['type', 'title', 'status', 'code', 'detail', 'instance', 'requestId']);
  const extensions = Object.fromEntries(
    Object.entries(details ?? {}).filter(([k]) => !reserved.has(k)),
  );
  return {
    type: `https://circuit-breaker.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: titleOf(code),
    status: statusOf(code),
    code,
    detail,
    ...(instance !== undefined ? { instance } : {}),
    requestId,
    ...extensions,
  };
}
