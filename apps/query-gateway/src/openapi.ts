import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import * as cbSchemas from '@cb/schemas';
import { ERRORS, ERROR_CODES, ERROR_STATUS, Problem, type ErrorCode } from '@cb/schemas';
import { Kind } from '@sinclair/typebox';
import type { App } from './app-type';
import type { RouteScope } from './auth/principal';
import {
  HEADER_COMPONENTS,
  PARAMETER_DESCRIPTIONS,
  PARAMETER_EXAMPLES,
  REQUEST_EXAMPLES,
  codesOf,
  errorExampleComponents,
  errorExamples,
  responseHeaders,
  type RouteHeader,
} from './openapi-contract';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/** The one OpenAPI component every error response points at. */
const PROBLEM_REF = '#/components/schemas/Problem';
const PROBLEM_MEDIA_TYPE = 'application/problem+json';
/** Marks, in a route's transformed schema, a response the document must point at `Problem`. */
const PROBLEM_MARK = 'x-cb-problem';
/** Carries `patternProperties` query parameters from the route transform to the document. */
const PATTERN_QUERY = 'x-cb-pattern-query';
/** Names, in a route's transformed schema, an object schema exported by @cb/schemas. */
const SCHEMA_NAME = 'x-cb-schema-name';
/** Carries the route's own response headers (`config.responseHeaders`) to the document. */
const ROUTE_HEADERS = 'x-cb-response-headers';

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
    name: 'webhooks',
    description:
      "Webhooks (`webhooks:admin`): the tenant's token events delivered to a URL, signed per Standard Webhooks, retried with back-off; registered and deleted as recorded events",
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
  "Every `/v1` operation needs `Authorization: Bearer <credential>`: an API key (`cb_<id>_<secret>`), a session (`cbs_…`) or the root credential (`CB_ADMIN_KEY`). Without a valid, live one the answer is `401 UNAUTHENTICATED` with `WWW-Authenticate: Bearer`, whatever the reason. Each operation names the scope it needs (`read`, `tokens:write`, `workflows:write`, `keys:admin`, `webhooks:admin`); a credential without it gets `403 FORBIDDEN`. Every key belongs to one tenant, which every read and write acts in: another tenant's ids answer exactly like unknown ones. Keys are rate limited per window (`429 RATE_LIMITED`, `RateLimit-Limit`/`-Remaining`/`-Reset`, `Retry-After`); the root credential is not. `/health`, `/ready`, `/metrics`, `/docs` and `/openapi.json` are public.",
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
 * OpenAPI 3.1 document at /openapi.json and Swagger UI at /docs, generated from the route
 * schemas (JSON Schema, as OpenAPI 3.1 takes it). Registered before the routes: @fastify/swagger collects them as they are added.
 */
export function registerOpenApi(app: App): void {
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Circuit Breaker',
        version: packageVersion(),
        description: DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
        contact: { name: 'Circuit Breaker maintainers', url: 'https://circuit-breaker.dev' },
      },
      servers: [{ url: '/', description: 'The gateway serving this document' }],
      tags: TAGS,
      components: {
        schemas: { Problem: Problem as object },
        headers: HEADER_COMPONENTS,
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
    transform: ({ schema, url, route }) =>
      // GraphQL (and GraphiQL) have their own schema: not operations of this document.
      url.startsWith('/graphql') || url.startsWith('/graphiql')
        ? { schema: { ...schema, hide: true }, url }
        : { schema: transformRouteSchema(schema, route.method, route.config), url },
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
  components?: {
    schemas?: Record<string, JsonObject>;
    examples?: JsonObject;
    responses?: JsonObject;
  };
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

/** When the catalogue says a code is returned, with its extension members in parentheses. */
function errorWhen(code: ErrorCode): string {
  const { when, members } = ERRORS[code];
  return members ? `${when} (${members})` : when;
}

function errorDescription(status: string, codes: readonly ErrorCode[]): string {
  if (status === 'default') {
    return 'Any other error: 500 `INTERNAL_ERROR` (problem details; see the error codes in the API description)';
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
  config: { scope?: RouteScope; responseHeaders?: RouteHeaders } | undefined,
): FastifySchema {
  if (!schema) return { response: { default: problemMarker() }, security: [] };
  const scope = config?.scope;
  const out: JsonObject = { ...schema };
  const authenticated = scope !== undefined && scope !== 'public';
  out.security = authenticated ? [{ [SECURITY_SCHEME]: [] }] : [];
  out[ROUTE_HEADERS] = config?.responseHeaders ?? {};
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
  // A body in another media type, or too large (installJsonParsers, the body limit): every
  // method but GET and HEAD may carry one, whether or not the route takes it.
  if (![method].flat().every((m) => m === 'GET' || m === 'HEAD')) {
    response['413'] = problemMarker();
    response['415'] = problemMarker();
  }
  if (schema.body) out.body = markNamed(schema.body);
  for (const [status, raw] of Object.entries((schema.response ?? {}) as JsonObject)) {
    const value = markNamed(raw);
    if (isErrorStatus(status) && isProblemSchema(raw)) {
      response[status] = problemMarker();
    } else if (isObject(value) && SUCCESS_DESCRIPTIONS[status] && !value.description) {
      response[status] = { ...value, 'x-response-description': SUCCESS_DESCRIPTIONS[status] };
    } else {
      response[status] = value;
    }
  }
  // What the gateway answers on any route before it runs (see installNegotiation, installUrlLimit).
  for (const status of EVERY_ROUTE_ERRORS) response[status] ??= problemMarker();
  // And on any authenticated route (see installAuth): the credential, the rate limit, the scope.
  if (authenticated) {
    for (const status of AUTH_ERRORS) response[status] ??= problemMarker();
  }
  response.default ??= problemMarker();
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

/** The object schemas @cb/schemas exports, by identity: they become `components.schemas`. */
const NAMED_SCHEMAS = new Map<unknown, string>();
for (const [name, value] of Object.entries(cbSchemas)) {
  const kind = isObject(value) ? (value as { [Kind]?: unknown })[Kind] : undefined;
  if (kind === 'Object' && !NAMED_SCHEMAS.has(value)) NAMED_SCHEMAS.set(value, name);
}

/** A copy of `schema` in which every schema @cb/schemas exports carries its name. */
function markNamed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(markNamed);
  if (!isObject(schema)) return schema;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) out[key] = markNamed(value);
  const name = NAMED_SCHEMAS.get(schema);
  if (name !== undefined) out[SCHEMA_NAME] = name;
  return out;
}

/**
 * Moves every named schema under `node` to `components.schemas` and points at it instead (its
 * name is its export's: clients get `components['schemas']['Token']`).
 */
function hoistNamed(node: unknown, components: Record<string, JsonObject>): unknown {
  if (Array.isArray(node)) return node.map((item) => hoistNamed(item, components));
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key !== SCHEMA_NAME) out[key] = hoistNamed(value, components);
  }
  const name = node[SCHEMA_NAME];
  if (typeof name !== 'string') return out;
  delete out['x-response-description'];
  components[name] ??= out;
  return { $ref: `#/components/schemas/${name}` };
}

type RouteHeaders = Readonly<Partial<Record<number, readonly RouteHeader[]>>>;

function problemMarker(): JsonObject {
  return { type: 'object', [PROBLEM_MARK]: true };
}

/**
 * `^metadata\.[…]$` → the exploded `form` object parameter `metadata` whose property names are
 * the parameter names, prefix included: `{ "metadata.region": "eu" }` is sent as
 * `metadata.region=eu` (what Swagger UI and openapi-fetch's form serializer send for it).
 */
function patternParameter(pattern: string, value: unknown): JsonObject {
  const prefix = /^\^([A-Za-z0-9_-]+)\\\./.exec(pattern)?.[1];
  const valueSchema: JsonObject = isObject(value) ? { ...value } : {};
  const description = typeof valueSchema.description === 'string' ? valueSchema.description : '';
  delete valueSchema.description;
  const name = prefix ?? 'filters';
  return {
    name,
    in: 'query',
    required: false,
    style: 'form',
    explode: true,
    description:
      `Any number of parameters named like \`${pattern}\`` +
      (prefix ? ` (e.g. \`${prefix}.region=eu\`)` : '') +
      (description ? `: ${description}` : '') +
      `. As an object, its property names are the parameter names, \`${name}.\` included.`,
    schema: {
      type: 'object',
      propertyNames: { pattern },
      additionalProperties: valueSchema,
    },
    ...(prefix ? { example: { [`${prefix}.region`]: 'eu' } } : {}),
  };
}

/** Every schema of the media types in `content`. */
function contentSchemas(content: unknown): unknown[] {
  return isObject(content)
    ? Object.values(content).map((media) => (isObject(media) ? media.schema : undefined))
    : [];
}

/**
 * The error responses, each written once in `components.responses` and pointed at from every
 * operation that answers it (most operations share their 401, 403, 406, 414, 429, 431, 503).
 */
class SharedResponses {
  readonly components: Record<string, JsonObject> = {};
  private readonly byJson = new Map<string, string>();

  ref(response: JsonObject, codes: readonly ErrorCode[], status: string, authenticated: boolean) {
    const json = JSON.stringify(response);
    let name = this.byJson.get(json);
    if (name === undefined) {
      const base =
        (codes.length > 0 && codes.length <= 2 ? codes.map(pascal).join('Or') : `Error${status}`) +
        (authenticated || status === 'default' ? '' : 'Public');
      name = base;
      for (let n = 2; this.components[name] !== undefined; n++) name = `${base}${n}`;
      this.components[name] = response;
      this.byJson.set(json, name);
    }
    return { $ref: `#/components/responses/${name}` };
  }
}

/** `TOKEN_NOT_FOUND` → `TokenNotFound`. */
function pascal(code: string): string {
  return code
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_m, _sep: string, letter: string) => letter.toUpperCase());
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);

/**
 * Error responses point at the Problem component as `application/problem+json`, with an example
 * of each code the operation may answer with; every response declares the headers sent with it;
 * parameters and bodies get examples.
 */
function finishDocument(doc: OpenApiDoc): OpenApiDoc {
  const usedTags = new Set<string>();
  const usedCodes = new Set<ErrorCode>();
  const shared = new SharedResponses();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method) || !isObject(operation)) continue;
      for (const tag of (operation.tags as string[] | undefined) ?? []) usedTags.add(tag);
      const extra = operation[PATTERN_QUERY];
      if (Array.isArray(extra)) {
        operation.parameters = [...((operation.parameters as unknown[]) ?? []), ...extra];
        delete operation[PATTERN_QUERY];
      }
      for (const p of Array.isArray(operation.parameters) ? operation.parameters : []) {
        if (!isObject(p) || typeof p.name !== 'string') continue;
        const example = PARAMETER_EXAMPLES[p.name];
        if (p.example === undefined && example !== undefined) p.example = example;
        const description = PARAMETER_DESCRIPTIONS[p.name];
        if (p.description === undefined && description !== undefined) p.description = description;
      }
      const schemas = (doc.components ??= {}).schemas ?? (doc.components.schemas = {});
      for (const holder of [operation.requestBody, ...Object.values(operation.responses ?? {})]) {
        for (const media of isObject(holder) && isObject(holder.content)
          ? Object.values(holder.content)
          : []) {
          if (isObject(media)) media.schema = hoistNamed(media.schema, schemas);
        }
      }
      const bodyExample = REQUEST_EXAMPLES[String(operation.operationId)];
      if (bodyExample !== undefined && isObject(operation.requestBody)) {
        for (const media of Object.values(operation.requestBody.content as JsonObject)) {
          if (isObject(media)) media.example = bodyExample;
        }
      }
      const routeHeaders = (operation[ROUTE_HEADERS] ?? {}) as Record<string, RouteHeader[]>;
      delete operation[ROUTE_HEADERS];
      const authenticated = Array.isArray(operation.security) && operation.security.length > 0;
      const responses = isObject(operation.responses) ? operation.responses : {};
      for (const [status, response] of Object.entries(responses)) {
        if (!isObject(response)) continue;
        if (status !== 'default') {
          response.headers = {
            ...responseHeaders(status, authenticated, routeHeaders[status]),
            ...(isObject(response.headers) ? response.headers : {}),
          };
        }
        const content = contentSchemas(response.content);
        if (content.some((schema) => isObject(schema) && schema[PROBLEM_MARK])) {
          const codes = codesOf(status, method, path);
          if (codes.length === 0) {
            // A status the route lists (a shared error map) for no code it can answer with.
            delete responses[status];
            continue;
          }
          codes.forEach((code) => usedCodes.add(code));
          response.description = errorDescription(status, codes);
          response.content = {
            [PROBLEM_MEDIA_TYPE]: {
              schema: { $ref: PROBLEM_REF },
              examples: errorExamples(codes),
            },
          };
          responses[status] = shared.ref(response, codes, status, authenticated);
        }
      }
    }
  }
  // In the order of the catalogue.
  if (doc.components) {
    doc.components.responses = shared.components;
    doc.components.examples = errorExampleComponents(ERROR_CODES.filter((c) => usedCodes.has(c)));
  }
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
