import { ERROR_CODES, ERROR_STATUS, type ErrorCode } from '@cb/schemas';
/* eslint-disable @nx/enforce-module-boundaries -- the document's examples are the shared fixture
   workflows at the repo root, outside every project (the bundle inlines the JSON). */
import orderProcessing from '../../../fixtures/workflows/order-processing.json';
/* eslint-enable @nx/enforce-module-boundaries */
import { toProblem } from './api-error';

/**
 * What the OpenAPI document says beyond the route schemas: the response headers, the error
 * codes each operation may answer with (and an example of each), request and parameter examples.
 */

/** A header a route sets itself on its answer; the others (below) every route sends. */
export type RouteHeader = 'ETag' | 'Location' | 'X-As-Of-Seq' | 'Cache-Control';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The headers the route sets on its answer, per status: the OpenAPI document declares them. */
    responseHeaders?: Readonly<Partial<Record<number, readonly RouteHeader[]>>>;
  }
}

type JsonObject = Record<string, unknown>;

const integerHeader = (description: string, example: number): JsonObject => ({
  description,
  schema: { type: 'integer', minimum: 0 },
  example,
});

/** `components.headers`: every response header the gateway sends. */
export const HEADER_COMPONENTS: Record<RouteHeader | CommonHeader, JsonObject> = {
  'X-Request-Id': {
    description:
      'The request id: the `X-Request-Id` sent, when it is 1-128 safe characters, else a new UUID. Logged with the request and in every problem (`requestId`).',
    required: true,
    schema: { type: 'string' },
    example: '9f1c2b7e-4d1a-4a0e-9a51-3f0c2d6e8b14',
  },
  ETag: {
    description:
      'The version of the resource, quoted: send it back as `If-Match` to write only if nothing changed.',
    required: true,
    schema: { type: 'string', pattern: '^"[0-9]+"$' },
    example: '"3"',
  },
  'X-As-Of-Seq': {
    ...integerHeader(
      'The stream seq the read reflects: every event with a seq up to it is in the body (pass a write’s `version` as `minSeq` to read your writes).',
      1042,
    ),
    required: true,
  },
  Location: {
    description: 'The path of the resource created.',
    required: true,
    schema: { type: 'string' },
    example: '/v1/workflows/order_processing/tokens/order-1042',
  },
  'Cache-Control': {
    description:
      'Answers with a secret or a live stream are not to be stored (`no-store`; `no-cache, no-transform` on live events).',
    required: true,
    schema: { type: 'string' },
    example: 'no-store',
  },
  'Retry-After': integerHeader('Seconds to wait before trying again.', 1),
  'WWW-Authenticate': {
    description: 'The challenge of every 401 (RFC 6750).',
    required: true,
    schema: { type: 'string' },
    example: 'Bearer realm="circuit-breaker"',
  },
  'RateLimit-Limit': integerHeader(
    'Requests the API key may make per window (on every answer to an API key; not to the root credential).',
    600,
  ),
  'RateLimit-Remaining': integerHeader('Requests left in the current window.', 599),
  'RateLimit-Reset': integerHeader('Seconds until the window resets.', 42),
};

type CommonHeader =
  | 'X-Request-Id'
  | 'Retry-After'
  | 'WWW-Authenticate'
  | 'RateLimit-Limit'
  | 'RateLimit-Remaining'
  | 'RateLimit-Reset';

const RATE_LIMIT_HEADERS = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'] as const;

/** The headers of one response of an operation, as `$ref`s to `components.headers`. */
export function responseHeaders(
  status: string,
  authenticated: boolean,
  routeHeaders: readonly RouteHeader[] = [],
): JsonObject {
  const names: string[] = ['X-Request-Id', ...routeHeaders];
  if (status === '401') names.push('WWW-Authenticate');
  if (status === '429' || status === '503') names.push('Retry-After');
  // Every answer to an API key once it is authenticated (never a 401; the root is not limited).
  if (authenticated && status !== '401') names.push(...RATE_LIMIT_HEADERS);
  return Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }]));
}

/** The operations that define a workflow, and those that fire transitions. */
const DEFINES = /^(POST \/v1\/workflows|PUT \/v1\/workflows\/\{workflowId\})$/;
const FIRES = /\/(fire|bulk-fire)$/;

/**
 * Codes only some operations answer with (`METHOD /path` patterns); every other code may come
 * from any operation declaring its status. ROUTE_NOT_FOUND and METHOD_NOT_ALLOWED never do: no
 * operation matched.
 */
const ONLY_ON: Partial<Record<ErrorCode, RegExp>> = {
  ROUTE_NOT_FOUND: /^$/,
  // GraphQL's own: no REST operation answers them.
  GRAPHQL_PARSE_FAILED: /^$/,
  GRAPHQL_VALIDATION_FAILED: /^$/,
  QUERY_TOO_DEEP: /^$/,
  QUERY_TOO_COMPLEX: /^$/,
  TARGET_PLACE_MISMATCH: /^$/,
  METHOD_NOT_ALLOWED: /^$/,
  GUARD_TOO_LARGE: DEFINES,
  GUARD_TOO_DEEP: DEFINES,
  GUARD_REF_CYCLE: DEFINES,
  GUARD_REF_UNSUPPORTED: DEFINES,
  GUARD_TOO_MANY_PATHS: DEFINES,
  GUARD_PATTERN_UNSUPPORTED: DEFINES,
  WORKFLOW_NOT_FOUND: /\{workflowId\}/,
  TOKEN_NOT_FOUND: /\{tokenId\}/,
  KEY_NOT_FOUND: /\{keyId\}/,
  WEBHOOK_NOT_FOUND: /\{webhookId\}/,
  WEBHOOK_URL_INVALID: /^POST \/v1\/webhooks$/,
  WEBHOOK_TARGET_REFUSED: /^POST \/v1\/webhooks$/,
  WEBHOOK_LIMIT: /^POST \/v1\/webhooks$/,
  WORKFLOW_EXISTS: /^POST \/v1\/workflows$/,
  TOKEN_EXISTS: /^POST \/v1\/workflows\/\{workflowId\}\/tokens$/,
  TRANSITION_NOT_ENABLED: /\/(fire|bulk-fire|bulk-fire\/preview)$/,
  GUARD_FAILED: FIRES,
  GUARD_TOO_EXPENSIVE: FIRES,
  TOO_MANY_REQUESTS: /\/events$/,
  UNSUPPORTED_MEDIA_TYPE: /^(POST|PUT|PATCH|DELETE) /,
};

/** The codes `METHOD path` may answer with this status (`default`: INTERNAL_ERROR). */
export function codesOf(status: string, method: string, path: string): ErrorCode[] {
  if (status === 'default') return ['INTERNAL_ERROR'];
  const route = `${method.toUpperCase()} ${path}`;
  return ERROR_CODES.filter(
    (code) => String(ERROR_STATUS[code]) === status && (ONLY_ON[code]?.test(route) ?? true),
  );
}

/** `components.examples`: one problem per code, as the gateway writes it. */
export function errorExampleComponents(codes: Iterable<ErrorCode>): JsonObject {
  return Object.fromEntries(
    [...codes].map((code) => [
      code,
      {
        summary: code,
        value: toProblem(
          code,
          EXAMPLE_DETAIL[code] ?? `an example of ${code}`,
          EXAMPLE_EXTRAS[code],
          undefined,
          '9f1c2b7e-4d1a-4a0e-9a51-3f0c2d6e8b14',
        ),
      },
    ]),
  );
}

/** The examples of an error response: a `$ref` to each code's. */
export function errorExamples(codes: readonly ErrorCode[]): JsonObject {
  return Object.fromEntries(codes.map((code) => [code, { $ref: `#/components/examples/${code}` }]));
}

const EXAMPLE_DETAIL: Partial<Record<ErrorCode, string>> = {
  VALIDATION_ERROR: 'body/data must be object',
  UNAUTHENTICATED: 'a valid credential is required',
  FORBIDDEN: 'this operation needs the scope tokens:write',
  WORKFLOW_NOT_FOUND: 'workflow order_processing does not exist',
  TOKEN_NOT_FOUND: 'token order-1042 does not exist in workflow order_processing',
  TRANSITION_NOT_ENABLED: 'transition ship is not enabled in place cart',
  GUARD_FAILED: 'the guard of transition pay rejects the token',
  VERSION_MISMATCH: 'expected version 2, the current version is 3',
  RATE_LIMITED: 'the API key used up its 600 requests for this window',
  INTERNAL_ERROR: 'internal error',
};

const EXAMPLE_EXTRAS: Partial<Record<ErrorCode, JsonObject>> = {
  VALIDATION_ERROR: { errors: [{ path: 'body/data', message: 'must be object' }] },
  FORBIDDEN: { scope: 'tokens:write' },
  TRANSITION_NOT_ENABLED: {
    transition: 'ship',
    place: 'cart',
    enabledTransitions: ['checkout', 'cancel'],
  },
  GUARD_FAILED: {
    transition: 'pay',
    failures: [
      {
        path: '/data',
        message: "must have required property 'payment_method'",
        keyword: 'required',
        schemaPath: '#/properties/data/required',
      },
    ],
    failureCount: 1,
  },
  VERSION_MISMATCH: { expectedVersion: 2, currentVersion: 3 },
  CONFLICT: { attempts: 5 },
};

/** Examples of path and query parameters, by name: the order-processing fixture. */
export const PARAMETER_EXAMPLES: Record<string, unknown> = {
  workflowId: orderProcessing.id,
  tokenId: 'order-1042',
  keyId: '4fT9qLx2Vb8kNw3Z',
  webhookId: 'wh_7Hq2Lx9Vb4kNw3ZP',
  place: 'payment_pending',
  'if-match': '"3"',
  'idempotency-key': 'order-1042-pay-1',
};

/** Descriptions of header parameters the schemas leave undescribed, by name. */
export const PARAMETER_DESCRIPTIONS: Record<string, string> = {
  'idempotency-key':
    'Makes the write safe to repeat: sent again with the same key (within `CB_DUPLICATE_WINDOW_MS`, 10 minutes by default) to the same operation on the same token or workflow, in the same tenant, it answers what the first request did and writes nothing. A key is scoped to that one resource and operation; reused for a different request it is `IDEMPOTENCY_KEY_REUSED`.',
};

/** Request bodies, by operationId: the order-processing fixture and tokens of it. */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  defineWorkflow: orderProcessing,
  defineWorkflowVersion: {
    ...Object.fromEntries(Object.entries(orderProcessing).filter(([key]) => key !== 'id')),
    description: 'Version 2: an order may also be cancelled once paid.',
    transitions: orderProcessing.transitions.map((t) =>
      t.id === 'cancel' ? { ...t, from: ['cart', 'payment_pending', 'paid'] } : t,
    ),
  },
  createToken: {
    id: 'order-1042',
    data: { customer: 'c-7', items: [{ sku: 'book-42', qty: 1 }], total: 24.9 },
    metadata: { region: 'eu', channel: 'web' },
  },
  fireTransition: { transition: 'pay', data: { payment_method: 'card' } },
  patchToken: { metadata: { priority: 'high' } },
  bulkFire: { transition: 'cancel', place: 'cart', triggeredBy: 'nightly-cleanup' },
  createWebhook: {
    url: 'https://orders.example.com/hooks/circuit-breaker',
    events: ['token.transitioned.v1'],
    workflowId: orderProcessing.id,
    description: 'order status to the shop',
  },
  createApiKey: {
    tenant: 'acme',
    name: 'order service',
    scopes: ['read', 'tokens:write'],
    workflows: [orderProcessing.id],
  },
};
