import { statusOf, type ErrorCode, type Problem } from '@cb/schemas';

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

const TITLES: Record<ErrorCode, string> = {
  VALIDATION_ERROR: 'The request is not valid',
  GUARD_TOO_LARGE: 'A guard is too large',
  GUARD_TOO_DEEP: 'A guard nests too deeply',
  GUARD_REF_CYCLE: 'A guard refers to itself in a cycle',
  GUARD_REF_UNSUPPORTED: 'A guard reference is not supported',
  GUARD_TOO_MANY_PATHS: 'A guard has too many evaluation paths',
  GUARD_PATTERN_UNSUPPORTED: 'A guard pattern is not supported',
  NUMBER_OUT_OF_RANGE: 'A number in the body cannot be kept exactly',
  MIN_SEQ_AHEAD: 'minSeq is beyond the last event of the stream',
  MALFORMED_REQUEST: 'The request is not well-formed HTTP',
  UNAUTHENTICATED: 'Authentication required',
  FORBIDDEN: 'The credential lacks a scope this request needs',
  WORKFLOW_NOT_FOUND: 'Workflow not found',
  TOKEN_NOT_FOUND: 'Token not found',
  KEY_NOT_FOUND: 'API key not found',
  ROUTE_NOT_FOUND: 'No such route',
  METHOD_NOT_ALLOWED: 'Method not allowed',
  NOT_ACCEPTABLE: 'Not acceptable',
  REQUEST_TIMEOUT: 'The request was not received in time',
  WORKFLOW_EXISTS: 'A workflow with this id exists',
  TOKEN_EXISTS: 'A token with this id exists',
  CONFLICT: 'The write conflicted with concurrent writes',
  VERSION_MISMATCH: 'The resource changed since the given version',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  URI_TOO_LONG: 'URI too long',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  TRANSITION_NOT_ENABLED: 'The transition is not enabled',
  GUARD_FAILED: 'The transition guard failed',
  GUARD_TOO_EXPENSIVE: 'The transition guard is too expensive to evaluate',
  IDEMPOTENCY_KEY_REUSED: 'Idempotency-Key reused with a different request',
  TOO_MANY_REQUESTS: 'Too many requests',
  RATE_LIMITED: 'Rate limit exceeded',
  HEADERS_TOO_LARGE: 'Request header fields too large',
  INTERNAL_ERROR: 'Internal error',
  PROJECTION_LAGGING: 'The read model is behind the requested sequence',
  COMMAND_SERVICE_UNAVAILABLE: 'No command service is available',
  SERVICE_UNAVAILABLE: 'Service unavailable',
  COMMAND_TIMEOUT: 'The command service did not answer in time',
};

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
    title: TITLES[code],
    status: statusOf(code),
    code,
    detail,
    ...(instance !== undefined ? { instance } : {}),
    requestId,
    ...extensions,
  };
}
