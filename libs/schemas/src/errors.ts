import { Type, type Static } from '@sinclair/typebox';

/**
 * The one table of error codes and their HTTP statuses. Code branches on these codes, never on
 * message text. Documented in docs/errors.md.
 */
export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  GUARD_TOO_LARGE: 400,
  GUARD_TOO_DEEP: 400,
  GUARD_REF_CYCLE: 400,
  GUARD_REF_UNSUPPORTED: 400,
  GUARD_TOO_MANY_PATHS: 400,
  GUARD_PATTERN_UNSUPPORTED: 400,
  NUMBER_OUT_OF_RANGE: 400,
  MIN_SEQ_AHEAD: 400,
  MALFORMED_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  WORKFLOW_NOT_FOUND: 404,
  TOKEN_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  REQUEST_TIMEOUT: 408,
  WORKFLOW_EXISTS: 409,
  TOKEN_EXISTS: 409,
  CONFLICT: 409,
  VERSION_MISMATCH: 412,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TRANSITION_NOT_ENABLED: 422,
  GUARD_FAILED: 422,
  GUARD_TOO_EXPENSIVE: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  TOO_MANY_REQUESTS: 429,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  PROJECTION_LAGGING: 503,
  COMMAND_SERVICE_UNAVAILABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  COMMAND_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

export const ErrorCodeSchema = Type.Union(
  ERROR_CODES.map((c) => Type.Literal(c)),
  { description: 'stable machine-readable error code' },
);

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

/** A failing guard rule: where in `{ data, metadata }` and why. */
export const GuardFailure = Type.Object({
  path: Type.String({
    description: 'JSON Pointer into `{ data, metadata }`, e.g. `/data/word_count`',
  }),
  message: Type.String(),
  keyword: Type.String({ description: 'the JSON Schema keyword that failed' }),
  schemaPath: Type.String(),
});
export type GuardFailure = Static<typeof GuardFailure>;

/** A field-level validation problem; `code` when it has a code of its own (a guard limit). */
export const FieldError = Type.Object({
  path: Type.String(),
  message: Type.String(),
  code: Type.Optional(ErrorCodeSchema),
});
export type FieldError = Static<typeof FieldError>;

/** An error as it crosses NATS from the command service to the gateway. */
export const ErrorBody = Type.Object({
  code: ErrorCodeSchema,
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** RFC 9457 problem details, as every HTTP error is returned (`application/problem+json`). */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URI identifying the problem type' }),
    title: Type.String(),
    status: Type.Integer(),
    code: ErrorCodeSchema,
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(FieldError)),
    failures: Type.Optional(Type.Array(GuardFailure)),
    failureCount: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'how many failures the guard found; `failures` lists the first 20',
      }),
    ),
  },
  { additionalProperties: true },
);
export type Problem = Static<typeof Problem>;
