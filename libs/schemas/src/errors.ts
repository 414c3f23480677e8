import { Type, type Static } from '@sinclair/typebox';

/** One error code: its HTTP status, the problem's `title`, and when it is returned. */
export interface ErrorEntry {
  readonly status: number;
  /** The `title` of every problem with this code (RFC 9457: the same for every occurrence). */
  readonly title: string;
  /** When the code is returned (Markdown), as docs/errors.md and the OpenAPI document say it. */
  readonly when: string;
  /** The problem's extension members with this code (Markdown), if it has any. */
  readonly members?: string;
}

/**
 * The error catalogue: every code the API returns, in one place. The gateway's problem titles,
 * the OpenAPI document's error descriptions and docs/errors.md (`npm run docs:errors`) are
 * derived from it. Code branches on these codes, never on message text.
 */
const CATALOGUE = {
  VALIDATION_ERROR: {
    status: 400,
    title: 'The request is not valid',
    when: 'malformed JSON, wrong types, unknown fields, unsafe ids (dots, spaces, `*`, `>`, over 64 characters), undeclared places, invalid definitions (among them an `after` of a timed transition that is not an ISO 8601 duration from 1 s to 10 years, an `at` that is not a JSON Pointer below `/data/` or `/metadata/`, or both on one transition), data nested deeper than 32 levels, a `__proto__` or `constructor.prototype` key anywhere in a body, bad query parameters or headers (every integer parameter is bounded, at most 2^53−1), a malformed or tampered cursor',
    members: '`errors: [{ path, message }]` (the first 20; `errorCount` when there were more)',
  },
  GUARD_TOO_LARGE: {
    status: 400,
    title: 'A guard is too large',
    when: 'a guard whose JSON is longer than 32 KiB',
    members: '`errors: [{ path, message, code }]`',
  },
  GUARD_TOO_DEEP: {
    status: 400,
    title: 'A guard nests too deeply',
    when: 'a guard nested deeper than 128 levels',
    members: '`errors`',
  },
  GUARD_REF_CYCLE: {
    status: 400,
    title: 'A guard refers to itself in a cycle',
    when: 'a guard whose `$ref`s lead back to a schema that contains them (`{"$ref":"#"}`, `{"allOf":[{"$ref":"#"}]}`, recursion through `$defs`): it would recurse forever',
    members: '`errors` (the `$ref` that closes the cycle)',
  },
  GUARD_REF_UNSUPPORTED: {
    status: 400,
    title: 'A guard reference is not supported',
    when: 'a `$ref` that is not a JSON Pointer into the same guard (`#`, `#/$defs/x`) or does not resolve; `$id`, `$anchor`, `$dynamicRef` and their kin',
    members: '`errors`',
  },
  GUARD_TOO_MANY_PATHS: {
    status: 400,
    title: 'A guard has too many evaluation paths',
    when: 'a guard with more than 1000 paths from its root to a leaf schema once every `$ref` is expanded (each `anyOf`/`oneOf`/`allOf` branch is a path; a chain of links that each reference the next twice doubles per link)',
    members: '`errors`',
  },
  GUARD_PATTERN_UNSUPPORTED: {
    status: 400,
    title: 'A guard pattern is not supported',
    when: 'a regular expression of a guard (`pattern`, the patterns of pattern properties, `propertyNames`) that RE2 syntax cannot express: lookaround, backreferences',
    members: '`errors`',
  },
  NUMBER_OUT_OF_RANGE: {
    status: 400,
    title: 'A number in the body cannot be kept exactly',
    when: 'a number in a body that JSON would not keep as written: it overflows a double (`1e400`, which would become `null`), a non-zero literal underflows to 0 (`1e-400`), or an integer literal lies beyond ±(2^53−1) (`9007199254740993`; send big ids as strings)',
    members: '`errors: [{ path, message }]`, e.g. `body/data/keep`',
  },
  MIN_SEQ_AHEAD: {
    status: 400,
    title: 'minSeq is beyond the last event of the stream',
    when: '`minSeq` is beyond the last event of the stream (asked of the server): no write has that version yet, so nothing would ever reflect it',
    members: '`minSeq`, `lastSeq`',
  },
  WEBHOOK_URL_INVALID: {
    status: 400,
    title: 'The webhook URL is not valid',
    when: 'a webhook `url` that is not an absolute `http` or `https` URL, carries credentials (`user:password@`) or a fragment, or has no host',
  },
  WEBHOOK_TARGET_REFUSED: {
    status: 400,
    title: 'The webhook target is refused',
    when: 'a webhook `url` whose host is, or resolves to, a loopback, private, link-local, unique-local, CGNAT, multicast or cloud metadata address (or does not resolve); allowed with `WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`',
    members: '`reason`',
  },
  MALFORMED_REQUEST: {
    status: 400,
    title: 'The request is not well-formed HTTP',
    when: 'not well-formed HTTP: a URL that is not validly percent-encoded (`/x/%ZZ`), a method HTTP does not define, a malformed request line or header',
  },
  GRAPHQL_PARSE_FAILED: {
    status: 400,
    title: 'The GraphQL document does not parse',
    when: '`/graphql` only: a query that is not GraphQL syntax (`extensions.code` of the error; the HTTP status is 400)',
  },
  GRAPHQL_VALIDATION_FAILED: {
    status: 400,
    title: 'The GraphQL operation is not valid',
    when: '`/graphql` only: an operation the schema does not allow (unknown field, wrong argument or variable type, a mutation over GET), or arguments out of bounds',
  },
  QUERY_TOO_DEEP: {
    status: 400,
    title: 'The GraphQL query nests too deeply',
    when: '`/graphql` only: selections nested deeper than `GRAPHQL_MAX_DEPTH` (introspection: 15 levels)',
    members: '`depth`, `maxDepth`',
  },
  LIVE_CUTOFF: {
    status: 503,
    title: 'The subscription was ended by the gateway',
    when: '`/graphql` subscriptions only: the client read too slowly (its buffer `SSE_CLIENT_BUFFER_BYTES` filled) or the gateway is shutting down; subscribe again with `afterSeq: lastSeq`',
    members: '`reason` (`slow-client`, `shutdown`, `unavailable`), `lastSeq`',
  },
  QUERY_TOO_COMPLEX: {
    status: 400,
    title: 'The GraphQL query costs too much',
    when: '`/graphql` only: an estimated cost (each field 1, list fields times their `first`) over `GRAPHQL_MAX_COST`, introspection included',
    members: '`cost`, `maxCost`',
  },
  UNAUTHENTICATED: {
    status: 401,
    title: 'Authentication required',
    when: 'a `/v1` route without `Authorization: Bearer <credential>`, or with a credential that is malformed, unknown, expired or revoked; the same answer whatever the reason (the reason is counted in `cb_auth_failures_total` and logged, never the secret); repeated failures from one address are answered after a growing delay (at most `AUTH_FAILURE_DELAY_MAX_MS`); `WWW-Authenticate: Bearer realm="circuit-breaker"`',
  },
  FORBIDDEN: {
    status: 403,
    title: 'The credential lacks a scope this request needs',
    when: 'the credential lacks the scope the operation needs (named in `scope`); a key administrator asking for another tenant, or granting more than it holds; a session asking for a session',
    members: '`scope` (when a scope is missing)',
  },
  WORKFLOW_NOT_FOUND: {
    status: 404,
    title: 'Workflow not found',
    when: "the workflow id does not exist in the credential's tenant, or the key is restricted to other workflows (the same answer: nothing tells another tenant's ids apart from unknown ones)",
  },
  TOKEN_NOT_FOUND: {
    status: 404,
    title: 'Token not found',
    when: "the token does not exist in that workflow of the credential's tenant, or was deleted",
  },
  KEY_NOT_FOUND: {
    status: 404,
    title: 'API key not found',
    when: "no API key with this id in the tenant(s) the credential manages (another tenant's key answers the same)",
  },
  WEBHOOK_NOT_FOUND: {
    status: 404,
    title: 'Webhook not found',
    when: "no webhook with this id in the credential's tenant, or it was deleted (another tenant's webhook answers the same)",
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    title: 'No such route',
    when: 'no such route',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    title: 'Method not allowed',
    when: 'the path has routes, but not for this method; `Allow` lists the methods it has (`OPTIONS` on such a path answers 204 with `Allow`)',
    members: '`allow`',
  },
  NOT_ACCEPTABLE: {
    status: 406,
    title: 'Not acceptable',
    when: 'the `Accept` header excludes every type the route serves: `application/json`, or `text/event-stream` on live events (`text/plain` on `/metrics`)',
    members: '`available`',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    title: 'The request was not received in time',
    when: "the request line, headers or body did not arrive in time (Node's request and header timeouts)",
  },
  WORKFLOW_EXISTS: {
    status: 409,
    title: 'A workflow with this id exists',
    when: '`POST /v1/workflows` with an id that exists (use `PUT` for a new version)',
  },
  TOKEN_EXISTS: {
    status: 409,
    title: 'A token with this id exists',
    when: 'a client-supplied token id is taken — token ids are unique across workflows and never reused, even after deletion',
    members: '`tokenId`',
  },
  WEBHOOK_LIMIT: {
    status: 409,
    title: 'Too many webhooks',
    when: 'the tenant has 100 webhooks already (delete one first)',
    members: '`limit`',
  },
  CONFLICT: {
    status: 409,
    title: 'The write conflicted with concurrent writes',
    when: 'a write without `If-Match` lost the race against concurrent writes on every bounded retry',
    members: '`attempts`',
  },
  VERSION_MISMATCH: {
    status: 412,
    title: 'The resource changed since the given version',
    when: '`If-Match` names a version that is no longer current',
    members: '`expectedVersion`, `currentVersion`',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: 'Payload too large',
    when: 'the body exceeds `MAX_BODY_BYTES`, or the token would outgrow one NATS message',
  },
  URI_TOO_LONG: {
    status: 414,
    title: 'URI too long',
    when: 'the URL is longer than 8192 characters, or one path segment is longer than 2048; the answer never repeats the URL',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported media type',
    when: 'a body that is not `application/json` (or `application/merge-patch+json` on `PATCH`)',
  },
  TRANSITION_NOT_ENABLED: {
    status: 422,
    title: 'The transition is not enabled',
    when: 'unknown transition, or the token is not in one of its `from` places',
    members: '`transition`, `place`, `enabledTransitions`',
  },
  GUARD_FAILED: {
    status: 422,
    title: 'The transition guard failed',
    when: "the transition's guard rejects the token (after the request's patches)",
    members:
      '`transition`, `failures: [{ path, message, keyword, schemaPath }]` (the first 20), `failureCount`',
  },
  TARGET_PLACE_MISMATCH: {
    status: 422,
    title: "The place is not the transition's target",
    when: '`/graphql` `transitionTokenWithNats` only: `newPlace` is not the place the transition leads to; nothing was written',
    members: '`transition`, `newPlace`, `toPlace`',
  },
  GUARD_TOO_EXPENSIVE: {
    status: 422,
    title: 'The transition guard is too expensive to evaluate',
    when: 'the guard could not be evaluated within its budget: it ran past `GUARD_TIMEOUT_MS` (or its definition past `GUARD_COMPILE_TIMEOUT_MS` to compile), its transition is quarantined after repeated overruns, or a guard stored before the definition-time limits existed breaks one. Nothing was written',
    members: '`transition`, `quarantinedUntil`',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    title: 'Idempotency-Key reused with a different request',
    when: 'an `Idempotency-Key` already used for a different request',
  },
  TOO_MANY_REQUESTS: {
    status: 429,
    title: 'Too many requests',
    when: '`SSE_MAX_CONNECTIONS` live event streams are open already (`Retry-After`)',
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Rate limit exceeded',
    when: 'the key used up its requests in the current window (its own `rateLimit`, else `RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW_S`); `Retry-After`, `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request header fields too large',
    when: 'the request line and headers together exceed 16 KiB (too many headers, one too large, or a URL that long)',
  },
  INTERNAL_ERROR: {
    status: 500,
    title: 'Internal error',
    when: 'a bug; logged with the request id, never caused by input',
  },
  PROJECTION_LAGGING: {
    status: 503,
    title: 'The read model is behind the requested sequence',
    when: 'a read with `minSeq` the read model did not reach in time (`Retry-After`)',
  },
  COMMAND_SERVICE_UNAVAILABLE: {
    status: 503,
    title: 'No command service is available',
    when: "no command service answers (none subscribes, or none answered the gateway's ping for 2 s), or none took the token's partition within `COMMAND_TIMEOUT_MS` while it changed owner; the write was not made (`Retry-After`)",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    title: 'Service unavailable',
    when: 'NATS is unreachable or cannot serve the request now (the event stream electing a leader, no quorum), or the gateway is shutting down (with `Connection: close`); `detail` says whether the write was not made ("nothing was written") or may have been (a publish sent and not confirmed: send it again with the same `Idempotency-Key`); `Retry-After`',
  },
  COMMAND_TIMEOUT: {
    status: 504,
    title: 'The command service did not answer in time',
    when: 'the command service took longer than `COMMAND_TIMEOUT_MS`; the write may have happened, so retry with the same `Idempotency-Key`',
  },
} satisfies Record<string, ErrorEntry>;

export type ErrorCode = keyof typeof CATALOGUE;
export const ERRORS: { readonly [C in ErrorCode]: ErrorEntry } = CATALOGUE;
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

/** Every code's HTTP status (from the catalogue). */
export const ERROR_STATUS = Object.fromEntries(
  ERROR_CODES.map((code) => [code, ERRORS[code].status]),
) as { readonly [C in ErrorCode]: number };

export const ErrorCodeSchema = Type.Union(
  ERROR_CODES.map((c) => Type.Literal(c)),
  { description: 'stable machine-readable error code' },
);

export function statusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}

/** The `title` of every problem with this code. */
export function titleOf(code: ErrorCode): string {
  return ERRORS[code].title;
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
