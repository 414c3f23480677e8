import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import { ERRORS, ERROR_CODES, ERROR_STATUS, Problem, type ErrorCode } from '@cb/schemas';
import type { App } from './app';
import type { RouteScope } from './auth/principal';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/** The one OpenAPI component every error response points at. */
const PROBLEM_REF = '#/components/schemas/Problem';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
/** Marks, in a route's transformed schema, a response the document must point at `Problem`. */
const PROBLEM_MARK = 'x-cb-problem';
/** Carries `patternProperties` query parameters from the route transform to the document. */
const PATTERN_QUERY = 'x-cb-pattern-query';

const TAGS = [
  {
    name: 'workflows',
    description: 'Workflow definitions (immutable and versioned) and their statistics',
  },
  {
    name: 'tokens',
    description:
      'Tokens: create, read, patch, delete, fire transitions, available transitions, history and search',
  },
  {
    name: 'live events',
    description:
      'Token events as Server-Sent Events (`text/event-stream`): `id` is the stream seq, `Last-Event-ID` resumes',
  },
  {
    name: 'keys',
    description:
      'API keys (`keys:admin`): created and revoked as recorded events; the root credential manages every tenant, a tenant key its own',
  },
  {
    name: 'sessions',
    description:
      'Short-lived bearer credentials made from an API key: same tenant and scopes, ended by DELETE or with the key',
  },
  { name: 'operations', description: 'Liveness, readiness and Prometheus metrics' },
];

const DESCRIPTION = [
  'Circuit Breaker: a workflow engine event-sourced on NATS JetStream (Petri-net style workflows, tokens that move between places by firing transitions).',
  '',
  'Writes take an optional `Idempotency-Key` and `If-Match: "<version>"` (a stale version gives 412). Reads answer from read models; `minSeq` (e.g. the `version` of your last write) gives read-your-writes, and the `x-as-of-seq` response header tells the seq a read reflects. Responses carry `x-request-id`.',
  '',
  '## Authentication',
  '',
  "Every `/v1` operation needs `Authorization: Bearer <credential>`: an API key (`cb_<id>_<secret>`), a session (`cbs_…`) or the root credential (`CB_ADMIN_KEY`). Without a valid, live one the answer is `401 UNAUTHENTICATED` with `WWW-Authenticate: Bearer`, whatever the reason. Each operation names the scope it needs (`read`, `tokens:write`, `workflows:write`, `keys:admin`); a credential without it gets `403 FORBIDDEN`. Every key belongs to one tenant, which every read and write acts in: another tenant's ids answer exactly like unknown ones. Keys are rate limited per window (`429 RATE_LIMITED`, `RateLimit-Limit`/`-Remaining`/`-Reset`, `Retry-After`); the root credential is not. `/health`, `/ready`, `/metrics`, `/docs` and `/openapi.json` are public.",
  '',
  '## Errors',
  '',
  'Every error is `application/problem+json` (RFC 9457) with a stable `code`; clients branch on `code`, never on `title` or `detail`. Extra members are listed in parentheses.',
  '',
  'Any route may also answer `406 NOT_ACCEPTABLE` (an `Accept` that excludes what it serves), `414 URI_TOO_LONG` and `431 HEADERS_TOO_LARGE`; a path answers a method it has no route for with `405 METHOD_NOT_ALLOWED` and an `Allow` header listing the methods it has, and `OPTIONS` with `204` and `Allow`. Numbers in bodies must survive as written: non-finite, flushed to zero, or integers beyond ±(2^53−1) are `400 NUMBER_OUT_OF_RANGE` (send big ids as strings).',
  '',
  '| code | status | when |',
  '| --- | --- | --- |',
  ...ERROR_CODES.map((code) => `| \`${code}\` | ${ERROR_STATUS[code]} | ${errorWhen(code)} |`),
].join('\n');

/**
 * OpenAPI 3.0 document at /openapi.json and Swagger UI at /docs, generated from the route
 * schemas. Registered before the routes: @fastify/swagger collects them as they are added.
 */
export function registerOpenApi(app: App): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Circuit Breaker', version: packageVersion(), description: DESCRIPTION },
      tags: TAGS,
      components: {
        schemas: { Problem: Problem as object },
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API key (`cb_<id>_<secret>`), a session (`cbs_…`, from `POST /v1/sessions`) or the root credential `CB_ADMIN_KEY`, as `Authorization: Bearer <credential>`. Each operation names the scope it needs.',
          },
        },
      },
      // Every operation needs a credential unless it says otherwise (the public ones: `security: []`).
      security: [{ [SECURITY_SCHEME]: [] }],
    },
    transform: ({ schema, url, route }) => ({
      schema: transformRouteSchema(schema, route.method, route.config?.scope),
      url,
    }),
    transformObject: (doc) => finishDocument((doc as { openapiObject: OpenApiDoc }).openapiObject),
  });
  app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    uiConfig: { deepLinking: true, defaultModelsExpandDepth: 0 },
  });
  app.register(async (instance) => {
    let document: string | undefined;
    instance.get(
      OPENAPI_PATH,
      { schema: { hide: true }, logLevel: 'warn' },
      async (_req, reply) => {
        document ??= JSON.stringify(instance.swagger());
        return reply.type('application/json; charset=utf-8').send(document);
      },
    );
  });
}

/**
 * The version in the nearest package.json up from this file: the repository's in development and
 * tests, the image's (/app/package.json, beside dist/) in a bundle.
 */
export function packageVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        version?: unknown;
      };
      if (typeof version === 'string') return version;
    } catch {
      // no (readable) package.json here: look further up
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
}

type JsonObject = Record<string, unknown>;
interface OpenApiDoc {
  tags?: { name: string; description?: string }[];
  paths?: Record<string, Record<string, JsonObject>>;
  components?: { schemas?: Record<string, JsonObject> };
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null;

/** Problem, or a copy of it (compared by shape, not identity). */
function isProblemSchema(schema: unknown): boolean {
  if (schema === Problem) return true;
  if (!isObject(schema) || !isObject(schema.properties)) return false;
  const props = schema.properties;
  return props.code === Problem.properties.code && props.type !== undefined;
}

function isErrorStatus(status: string): boolean {
  return status === 'default' || /^[45]/.test(status);
}

/** The codes a matched route may answer with this status (ROUTE_NOT_FOUND never is). */
function codesOf(status: number): ErrorCode[] {
  return ERROR_CODES.filter((c) => ERROR_STATUS[c] === status && c !== 'ROUTE_NOT_FOUND');
}

/** When the catalogue says a code is returned, with its extension members in parentheses. */
function errorWhen(code: ErrorCode): string {
  const { when, members } = ERRORS[code];
  return members ? `${when} (${members})` : when;
}

function errorDescription(status: string): string {
  const codes = /^\d+$/.test(status) ? codesOf(Number(status)) : [];
  if (status === 'default') {
    return 'Any other error, e.g. 500 `INTERNAL_ERROR` (problem details; see the error codes in the API description)';
  }
  return codes.length > 0
    ? `Problem details; \`code\` is ${codes.map((c) => `\`${c}\` (${ERRORS[c].title})`).join(' or ')}`
    : 'Problem details';
}

/** The security scheme every authenticated operation names. */
const SECURITY_SCHEME = 'bearerAuth';

/** Errors any authenticated route may answer: 401 UNAUTHENTICATED, 403 FORBIDDEN, 429 RATE_LIMITED. */
const AUTH_ERRORS = ['401', '403', '429'] as const;

/** Errors any route may answer: 406 NOT_ACCEPTABLE, 414 URI_TOO_LONG, 431 HEADERS_TOO_LARGE. */
const EVERY_ROUTE_ERRORS = ['406', '414', '431'] as const;

const SUCCESS_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'No Content',
};

/**
 * Per route, before @fastify/swagger converts it (a shallow copy: the route's own schema objects
 * serve validation and serialization and are never changed):
 * - error responses that are `Problem` get a marker, replaced by a `$ref` in `finishDocument`;
 * - every route gets a `default` Problem response (any route can answer 500 INTERNAL_ERROR);
 * - success responses get a description;
 * - `patternProperties` of the query string (`metadata.<key>=`) become one exploded object
 *   parameter (@fastify/swagger would fold them into `additionalProperties` and list nothing).
 */
function transformRouteSchema(
  schema: FastifySchema | undefined,
  method: string | string[],
  scope: RouteScope | undefined,
): FastifySchema {
  if (!schema) return { response: { default: problemMarker('default') }, security: [] };
  const out: JsonObject = { ...schema };
  const authenticated = scope !== undefined && scope !== 'public';
  out.security = authenticated ? [{ [SECURITY_SCHEME]: [] }] : [];
  if (authenticated) {
    out['x-required-scope'] = scope;
    const needs =
      scope === 'authenticated'
        ? 'Needs a valid credential (any scope).'
        : `Needs the scope \`${scope}\`.`;
    out.description =
      typeof schema.description === 'string' ? `${needs}\n\n${schema.description}` : needs;
  }
  // Bodies may be sent as application/json; PATCH is a JSON Merge Patch (RFC 7386).
  if (schema.body && method === 'PATCH' && !out.consumes) {
    out.consumes = ['application/merge-patch+json', 'application/json'];
  }
  const response: JsonObject = {};
  for (const [status, value] of Object.entries((schema.response ?? {}) as JsonObject)) {
    if (isErrorStatus(status) && isProblemSchema(value)) {
      response[status] = problemMarker(status);
    } else if (isObject(value) && SUCCESS_DESCRIPTIONS[status] && !value.description) {
      response[status] = { ...value, 'x-response-description': SUCCESS_DESCRIPTIONS[status] };
    } else {
      response[status] = value;
    }
  }
  // What the gateway answers on any route before it runs (see installNegotiation, installUrlLimit).
  for (const status of EVERY_ROUTE_ERRORS) response[status] ??= problemMarker(status);
  // And on any authenticated route (see installAuth): the credential, the rate limit, the scope.
  if (authenticated) {
    for (const status of AUTH_ERRORS) response[status] ??= problemMarker(status);
  }
  response.default ??= problemMarker('default');
  out.response = response;

  const query = schema.querystring;
  if (isObject(query) && isObject(query.patternProperties)) {
    const { patternProperties, ...rest } = query;
    out.querystring = rest;
    out[PATTERN_QUERY] = Object.entries(patternProperties).map(([pattern, value]) =>
      patternParameter(pattern, value),
    );
  }
  return out as FastifySchema;
}

function problemMarker(status: string): JsonObject {
  return { type: 'object', [PROBLEM_MARK]: true, description: errorDescription(status) };
}

/** `^metadata\.[…]$` → the exploded `form` object parameter `metadata`. */
function patternParameter(pattern: string, value: unknown): JsonObject {
  const prefix = /^\^([A-Za-z0-9_-]+)\\\./.exec(pattern)?.[1];
  const valueSchema: JsonObject = isObject(value) ? { ...value } : {};
  const description = typeof valueSchema.description === 'string' ? valueSchema.description : '';
  delete valueSchema.description;
  return {
    name: prefix ?? 'filters',
    in: 'query',
    required: false,
    style: 'form',
    explode: true,
    description:
      `Any number of parameters named like \`${pattern}\`` +
      (prefix ? ` (e.g. \`${prefix}.status=open\`)` : '') +
      (description ? `: ${description}` : ''),
    schema: { type: 'object', additionalProperties: valueSchema },
  };
}

/** The keywords of an OpenAPI 3.0 Schema Object (besides `x-…` extensions). */
const OAS30_SCHEMA_KEYWORDS = new Set([
  ...['title', 'description', 'default', 'example', 'deprecated', 'readOnly', 'writeOnly'],
  ...['type', 'format', 'enum', 'nullable', 'multipleOf', 'maximum', 'exclusiveMaximum'],
  ...['minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems'],
  ...['minItems', 'uniqueItems', 'maxProperties', 'minProperties', 'required', 'properties'],
  ...['additionalProperties', 'items', 'allOf', 'oneOf', 'anyOf', 'not', 'discriminator'],
  ...['xml', 'externalDocs', '$ref'],
]);

/**
 * Makes a (converted) JSON Schema a valid OpenAPI 3.0 Schema Object, in place: numeric
 * `exclusiveMinimum`/`exclusiveMaximum` become the boolean form, and keywords 3.0 lacks (e.g.
 * `propertyNames`) are kept as `x-<keyword>` extensions rather than dropped.
 */
function toOas30Schema(schema: unknown): void {
  if (!isObject(schema) || Array.isArray(schema)) return;
  for (const [bound, exclusive] of [
    ['minimum', 'exclusiveMinimum'],
    ['maximum', 'exclusiveMaximum'],
  ] as const) {
    const limit = schema[exclusive];
    if (typeof limit === 'number') {
      schema[bound] = limit;
      schema[exclusive] = true;
    }
  }
  for (const key of Object.keys(schema)) {
    if (key.startsWith('x-') || OAS30_SCHEMA_KEYWORDS.has(key)) continue;
    schema[`x-${key}`] = schema[key];
    delete schema[key];
  }
  if (schema.$ref !== undefined) return;
  if (Array.isArray(schema.items)) {
    // A tuple: 3.0 has one `items` schema only.
    schema['x-items'] = schema.items;
    schema.items = {};
  }
  for (const key of ['properties'] as const) {
    if (isObject(schema[key])) Object.values(schema[key]).forEach(toOas30Schema);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(schema[key])) schema[key].forEach(toOas30Schema);
  }
  for (const key of ['items', 'additionalProperties', 'not'] as const) toOas30Schema(schema[key]);
}

/** Every schema of the media types in `content`. */
function contentSchemas(content: unknown): unknown[] {
  return isObject(content)
    ? Object.values(content).map((media) => (isObject(media) ? media.schema : undefined))
    : [];
}

/**
 * Error responses point at the Problem component as `application/problem+json`; every schema is
 * made valid OpenAPI 3.0.
 */
function finishDocument(doc: OpenApiDoc): OpenApiDoc {
  const usedTags = new Set<string>();
  const schemas: unknown[] = Object.values(doc.components?.schemas ?? {});
  for (const item of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(item)) {
      if (!isObject(operation)) continue;
      for (const tag of (operation.tags as string[] | undefined) ?? []) usedTags.add(tag);
      const extra = operation[PATTERN_QUERY];
      if (Array.isArray(extra)) {
        operation.parameters = [...((operation.parameters as unknown[]) ?? []), ...extra];
        delete operation[PATTERN_QUERY];
      }
      const parameters = Array.isArray(operation.parameters) ? operation.parameters : [];
      for (const p of parameters) if (isObject(p)) schemas.push(p.schema);
      if (isObject(operation.requestBody)) {
        schemas.push(...contentSchemas(operation.requestBody.content));
      }
      const responses = isObject(operation.responses) ? operation.responses : {};
      for (const response of Object.values(responses)) {
        if (!isObject(response)) continue;
        const content = contentSchemas(response.content);
        if (content.some((schema) => isObject(schema) && schema[PROBLEM_MARK])) {
          response.content = { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_REF } } };
          continue;
        }
        schemas.push(...content);
        for (const header of Object.values(isObject(response.headers) ? response.headers : {})) {
          if (isObject(header)) schemas.push(header.schema);
        }
      }
    }
  }
  schemas.forEach(toOas30Schema);
  const problem = doc.components?.schemas?.Problem;
  if (problem && isObject(problem.properties)) {
    problem.description =
      'RFC 9457 problem details, the body of every error (`application/problem+json`); extension members depend on the code (see the error codes in the API description)';
    // One enum instead of a union of one-value enums: easier to read and to generate from.
    problem.properties.code = {
      type: 'string',
      enum: ERROR_CODES,
      description: 'stable machine-readable error code',
    };
  }
  const known = new Set((doc.tags ?? []).map((t) => t.name));
  doc.tags = [
    ...(doc.tags ?? []),
    ...[...usedTags].filter((t) => !known.has(t)).map((name) => ({ name })),
  ];
  return doc;
}
