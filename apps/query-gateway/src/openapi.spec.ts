import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Type } from '@sinclair/typebox';
import type { App } from './app-type';
import { appWithoutNats } from './testing/app-without-nats';

/** Every route of DESIGN §7 (the operations routes /docs and /openapi.json are not listed). */
const CONTRACT: [method: string, path: string][] = [
  ['post', '/v1/workflows'],
  ['get', '/v1/workflows'],
  ['get', '/v1/workflows/{workflowId}'],
  ['put', '/v1/workflows/{workflowId}'],
  ['get', '/v1/workflows/{workflowId}/stats'],
  ['post', '/v1/workflows/{workflowId}/tokens'],
  ['get', '/v1/workflows/{workflowId}/tokens'],
  ['get', '/v1/workflows/{workflowId}/tokens/{tokenId}'],
  ['patch', '/v1/workflows/{workflowId}/tokens/{tokenId}'],
  ['delete', '/v1/workflows/{workflowId}/tokens/{tokenId}'],
  ['post', '/v1/workflows/{workflowId}/tokens/{tokenId}/fire'],
  ['get', '/v1/workflows/{workflowId}/tokens/{tokenId}/transitions'],
  ['get', '/v1/workflows/{workflowId}/tokens/{tokenId}/history'],
  ['post', '/v1/workflows/{workflowId}/bulk-fire'],
  ['post', '/v1/workflows/{workflowId}/bulk-fire/preview'],
  ['post', '/v1/workflow-validations'],
  ['get', '/v1/tokens/{tokenId}'],
  ['get', '/v1/tokens'],
  ['get', '/v1/workflows/{workflowId}/events'],
  ['get', '/v1/workflows/{workflowId}/tokens/{tokenId}/events'],
  ['post', '/v1/admin/keys'],
  ['get', '/v1/admin/keys'],
  ['get', '/v1/admin/keys/{keyId}'],
  ['delete', '/v1/admin/keys/{keyId}'],
  ['post', '/v1/webhooks'],
  ['get', '/v1/webhooks'],
  ['get', '/v1/webhooks/{webhookId}'],
  ['delete', '/v1/webhooks/{webhookId}'],
  ['get', '/v1/webhooks/{webhookId}/deliveries'],
  ['post', '/v1/sessions'],
  ['get', '/v1/sessions/current'],
  ['delete', '/v1/sessions/current'],
  ['get', '/health'],
  ['get', '/ready'],
  ['get', '/metrics'],
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

interface Operation {
  tags?: string[];
  security?: Record<string, string[]>[];
  description?: string;
  'x-required-scope'?: string;
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema?: unknown; examples?: unknown }> }
  >;
}
interface Document {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

/** The document with each `$ref` to `components.responses` replaced by the response (a copy). */
function withSharedResponses(raw: Document): Document {
  const doc = structuredClone(raw);
  const shared = (raw.components as unknown as { responses?: Record<string, unknown> }).responses;
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        const ref = (response as { $ref?: string }).$ref;
        if (ref === undefined) continue;
        const found = shared?.[ref.replace('#/components/responses/', '')];
        if (!found) throw new Error(`${ref} is not in components.responses`);
        op.responses[status] = structuredClone(found) as Operation['responses'][string];
      }
    }
  }
  return doc;
}

describe('OpenAPI document and Swagger UI', () => {
  let app: App;
  let doc: Document;
  let raw: Document;

  beforeAll(async () => {
    app = appWithoutNats();
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    raw = res.json<Document>();
    doc = withSharedResponses(raw);
  });

  afterAll(async () => {
    await app.close();
  });

  const operations = (): [string, string, Operation][] =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]): [string, string, Operation] => [method, path, op]),
    );

  it('is a valid OpenAPI 3 document', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    // validate() dereferences its argument in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(raw) as never)).resolves.toBeDefined();
  });

  it('names the API and its version, and describes every error code', () => {
    expect(doc.info.title).toBe('Circuit Breaker');
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(doc.info.version).toBe(pkg.version);
    for (const code of ['VALIDATION_ERROR', 'TOKEN_NOT_FOUND', 'GUARD_FAILED', 'COMMAND_TIMEOUT']) {
      expect(doc.info.description).toContain(`\`${code}\``);
    }
  });

  it('lists every route of the REST contract with its method', () => {
    const listed = operations().map(([method, path]) => `${method.toUpperCase()} ${path}`);
    const missing = CONTRACT.map(([m, p]) => `${m.toUpperCase()} ${p}`).filter(
      (route) => !listed.includes(route),
    );
    expect(missing).toEqual([]);
  });

  it('hides the documentation routes themselves and nothing else', () => {
    const paths = Object.keys(doc.paths);
    expect(paths.filter((p) => p.startsWith('/docs') || p === '/openapi.json')).toEqual([]);
    const contract = new Set(CONTRACT.map(([m, p]) => `${m} ${p}`));
    const extra = operations()
      .map(([m, p]) => `${m} ${p}`)
      .filter((route) => !contract.has(route));
    expect(extra).toEqual([]);
  });

  it('issue 12, deliverable 6: documents the bearer scheme and the scope of each operation', () => {
    const raw = doc as unknown as {
      security: unknown;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(raw.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
    });
    expect(raw.security).toEqual([{ bearerAuth: [] }]);
    const scopes = new Map<string, string | undefined>();
    for (const [method, path, op] of operations()) {
      const route = `${method.toUpperCase()} ${path}`;
      if (!path.startsWith('/v1/')) {
        // Public: no credential, said explicitly so the document-wide default does not apply.
        expect({ route, security: op.security }).toEqual({ route, security: [] });
        continue;
      }
      expect({ route, security: op.security }).toEqual({ route, security: [{ bearerAuth: [] }] });
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '429']));
      expect(op.description).toMatch(/^Needs (the scope `[a-z:]+`|a valid credential)/);
      scopes.set(route, op['x-required-scope']);
    }
    expect(Object.fromEntries(scopes)).toMatchObject({
      'GET /v1/workflows': 'read',
      'POST /v1/workflows': 'workflows:write',
      'PUT /v1/workflows/{workflowId}': 'workflows:write',
      'POST /v1/workflows/{workflowId}/tokens': 'tokens:write',
      'POST /v1/workflows/{workflowId}/tokens/{tokenId}/fire': 'tokens:write',
      'PATCH /v1/workflows/{workflowId}/tokens/{tokenId}': 'tokens:write',
      'DELETE /v1/workflows/{workflowId}/tokens/{tokenId}': 'tokens:write',
      'POST /v1/workflows/{workflowId}/bulk-fire': 'tokens:write',
      'GET /v1/workflows/{workflowId}/events': 'read',
      'GET /v1/tokens': 'read',
      'POST /v1/admin/keys': 'keys:admin',
      'DELETE /v1/admin/keys/{keyId}': 'keys:admin',
      'POST /v1/webhooks': 'webhooks:admin',
      'GET /v1/webhooks/{webhookId}/deliveries': 'webhooks:admin',
      'DELETE /v1/webhooks/{webhookId}': 'webhooks:admin',
      'POST /v1/sessions': 'authenticated',
    });
    for (const [route, scope] of scopes) {
      if (
        route.startsWith('GET ') &&
        !route.includes('/admin/') &&
        !route.includes('/sessions') &&
        !route.includes('/webhooks')
      ) {
        expect({ route, scope }).toEqual({ route, scope: 'read' });
      }
    }
  });

  it('tags every operation with a declared tag', () => {
    const declared = new Set(doc.tags.map((t) => t.name));
    for (const [method, path, op] of operations()) {
      const route = `${method} ${path}`;
      expect({ route, tagged: (op.tags?.length ?? 0) > 0 }).toEqual({ route, tagged: true });
      for (const tag of op.tags ?? []) expect(declared).toContain(tag);
    }
    expect([...declared]).toEqual(
      expect.arrayContaining(['workflows', 'tokens', 'live events', 'operations']),
    );
  });

  it('points every error response at the Problem schema as application/problem+json', () => {
    const problem = doc.components.schemas.Problem;
    expect(problem?.properties).toEqual(
      expect.objectContaining({ type: expect.anything(), code: expect.anything() }),
    );
    let checked = 0;
    for (const [method, path, op] of operations()) {
      expect(op.responses.default).toBeDefined();
      for (const [status, response] of Object.entries(op.responses)) {
        if (!(status === 'default' || /^[45]/.test(status))) continue;
        // /ready answers 503 with its checks, not a problem: that is the readiness contract.
        if (path === '/ready' && status === '503') continue;
        expect({ route: `${method} ${path}`, status, content: response.content }).toEqual({
          route: `${method} ${path}`,
          status,
          content: {
            'application/problem+json': {
              schema: { $ref: '#/components/schemas/Problem' },
              ...(response.content?.['application/problem+json']?.examples
                ? { examples: expect.any(Object) }
                : {}),
            },
          },
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(CONTRACT.length * 2);
  });

  it('documents 406, 414 and 431 on every operation, and 405 with Allow in the description', () => {
    for (const [method, path, op] of operations()) {
      const statuses = Object.keys(op.responses);
      expect({ route: `${method} ${path}`, statuses }).toEqual({
        route: `${method} ${path}`,
        statuses: expect.arrayContaining(['406', '414', '431']),
      });
    }
    const fire = doc.paths['/v1/workflows/{workflowId}/tokens/{tokenId}/fire']?.post;
    expect(fire?.responses['406']?.description).toContain('`NOT_ACCEPTABLE`');
    expect(fire?.responses['414']?.description).toContain('`URI_TOO_LONG`');
    expect(fire?.responses['431']?.description).toContain('`HEADERS_TOO_LARGE`');
    expect(doc.info.description).toMatch(/405 METHOD_NOT_ALLOWED.*`Allow`/);
    for (const code of ['NUMBER_OUT_OF_RANGE', 'MIN_SEQ_AHEAD', 'MALFORMED_REQUEST']) {
      expect(doc.info.description).toContain(`| \`${code}\` | 400 |`);
    }
  });

  it('documents params, query, headers and bodies', () => {
    const op = (method: string, path: string): Operation => {
      const found = doc.paths[path]?.[method];
      if (!found) throw new Error(`${method} ${path} is not documented`);
      return found;
    };
    const names = (o: Operation, where: string): string[] =>
      (o.parameters ?? []).filter((p) => p.in === where).map((p) => p.name);

    const fire = op('post', '/v1/workflows/{workflowId}/tokens/{tokenId}/fire');
    expect(names(fire, 'path').sort()).toEqual(['tokenId', 'workflowId']);
    expect(names(fire, 'header').sort()).toEqual(['idempotency-key', 'if-match']);
    // Issue 13: what an Idempotency-Key is scoped to is said where it is sent.
    const key = (fire.parameters ?? []).find((p) => p.name === 'idempotency-key') as {
      description?: string;
    };
    expect(key.description).toMatch(/one resource and operation.*IDEMPOTENCY_KEY_REUSED/);
    expect(Object.keys(fire.requestBody?.content ?? {})).toEqual(['application/json']);
    expect(Object.keys(fire.responses)).toEqual(expect.arrayContaining(['200', '412', '422']));

    const list = op('get', '/v1/workflows/{workflowId}/tokens');
    expect(names(list, 'query')).toEqual(
      expect.arrayContaining(['place', 'limit', 'cursor', 'minSeq']),
    );
    expect(op('get', '/v1/workflows/{workflowId}/stats').responses['200']?.content).toHaveProperty([
      'application/json',
    ]);
  });

  it('renders the metadata.<key> search parameters (patternProperties) as the wire spells them', () => {
    const search = doc.paths['/v1/tokens']?.get;
    const params = search?.parameters ?? [];
    expect(params.map((p) => p.name)).toEqual(
      expect.arrayContaining(['workflowId', 'place', 'limit', 'cursor', 'minSeq', 'metadata']),
    );
    const metadata = params.find((p) => p.name === 'metadata') as Record<string, unknown>;
    // form + explode serializes an object as one parameter per property, named by the property:
    // `{ "metadata.region": "eu" }` is `metadata.region=eu` (not `region=eu`, not deepObject).
    expect(metadata).toMatchObject({
      in: 'query',
      style: 'form',
      explode: true,
      schema: {
        type: 'object',
        propertyNames: { pattern: expect.stringMatching(/^\^metadata\\\./) },
        additionalProperties: { type: 'string' },
      },
      example: { 'metadata.region': 'eu' },
    });
    const names = (metadata.schema as { propertyNames: { pattern: string } }).propertyNames;
    expect(new RegExp(names.pattern).test('metadata.region')).toBe(true);
    expect(new RegExp(names.pattern).test('region')).toBe(false);
    expect(JSON.stringify(doc)).not.toContain('patternProperties');
  });

  it('names every operation (unique operationId), summarises and describes it, and names the server', () => {
    const ids = operations().map(([method, path, op]) => {
      const o = op as Operation & { operationId?: string; summary?: string };
      const route = `${method} ${path}`;
      expect({ route, operationId: o.operationId }).toEqual({
        route,
        operationId: expect.stringMatching(/^[a-z][A-Za-z]+$/),
      });
      expect({ route, summary: !!o.summary, description: !!o.description }).toEqual({
        route,
        summary: true,
        description: true,
      });
      return o.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['createToken', 'fireTransition', 'searchTokens']));
    expect((doc as unknown as { servers: unknown }).servers).toEqual([
      { url: '/', description: expect.any(String) },
    ]);
  });

  it('declares the headers each response carries', () => {
    type Headers = Record<string, { $ref: string }>;
    const headers = (method: string, path: string, status: string): string[] =>
      Object.keys(
        (doc.paths[path]?.[method]?.responses[status] as { headers?: Headers }).headers ?? {},
      ).sort();
    const rate = ['RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset'];
    const token = '/v1/workflows/{workflowId}/tokens/{tokenId}';
    expect(headers('post', '/v1/workflows/{workflowId}/tokens', '201')).toEqual(
      ['ETag', 'Location', 'X-Request-Id', ...rate].sort(),
    );
    expect(headers('post', `${token}/fire`, '200')).toEqual(
      ['ETag', 'X-Request-Id', ...rate].sort(),
    );
    expect(headers('get', token, '200')).toEqual(
      ['ETag', 'X-As-Of-Seq', 'X-Request-Id', ...rate].sort(),
    );
    expect(headers('get', '/v1/tokens', '200')).toEqual(
      ['X-As-Of-Seq', 'X-Request-Id', ...rate].sort(),
    );
    expect(headers('post', '/v1/admin/keys', '201')).toEqual(
      ['Cache-Control', 'Location', 'X-Request-Id', ...rate].sort(),
    );
    expect(headers('get', token, '401')).toEqual(['WWW-Authenticate', 'X-Request-Id']);
    expect(headers('get', token, '429')).toEqual(['Retry-After', 'X-Request-Id', ...rate].sort());
    expect(headers('get', '/health', '200')).toEqual(['X-Request-Id']);
    const components = (doc.components as unknown as { headers: Record<string, unknown> }).headers;
    for (const [method, path, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (status === 'default') continue;
        for (const ref of Object.values((response as { headers?: Headers }).headers ?? {})) {
          expect(components).toHaveProperty([ref.$ref.replace('#/components/headers/', '')]);
        }
        expect({ route: `${method} ${path}`, status, id: headers(method, path, status) }).toEqual({
          route: `${method} ${path}`,
          status,
          id: expect.arrayContaining(['X-Request-Id']),
        });
      }
    }
  });

  it('writes each error response once (components.responses), and only with codes it can have', () => {
    const shared = (raw.components as unknown as { responses: Record<string, unknown> }).responses;
    const refs = new Set<string>();
    for (const item of Object.values(raw.paths)) {
      for (const op of Object.values(item)) {
        for (const [status, response] of Object.entries(op.responses)) {
          if (!(status === 'default' || /^[45]/.test(status)) || !('$ref' in response)) continue;
          refs.add(String(response.$ref));
        }
      }
    }
    expect([...refs].sort()).toEqual(
      Object.keys(shared)
        .map((name) => `#/components/responses/${name}`)
        .sort(),
    );
    expect(shared).toHaveProperty('Unauthenticated');
    for (const [method, path, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^[45]/.test(status) || path === '/ready') continue;
        expect({ route: `${method} ${path}`, status, codes: response.description }).toEqual({
          route: `${method} ${path}`,
          status,
          codes: expect.stringMatching(/`code` is `[A-Z_]+`/),
        });
      }
    }
    // POST /v1/workflows lists 404 in its error map, yet no code of it can answer 404.
    expect(Object.keys(raw.paths['/v1/workflows']?.post?.responses ?? {})).not.toContain('404');
  });

  it('documents 413 and 415 on every operation that may carry a body (every method but GET)', () => {
    let bodies = 0;
    for (const [method, path, op] of operations()) {
      if (method === 'get') continue;
      bodies++;
      expect({ route: `${method} ${path}`, statuses: Object.keys(op.responses) }).toEqual({
        route: `${method} ${path}`,
        statuses: expect.arrayContaining(['413', '415']),
      });
    }
    expect(bodies).toBeGreaterThanOrEqual(11);
  });

  it('gives each error status examples of its own codes, and requests examples from the fixtures', () => {
    const examples = (doc.components as unknown as { examples: Record<string, { value: Problem }> })
      .examples;
    type Problem = { code: string; status: number; type: string };
    for (const [method, path, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        const media = response.content?.['application/problem+json'] as
          { examples?: Record<string, { $ref: string }> } | undefined;
        for (const [code, ref] of Object.entries(media?.examples ?? {})) {
          const example = examples[ref.$ref.replace('#/components/examples/', '')]?.value;
          expect({ route: `${method} ${path}`, status, code: example?.code }).toEqual({
            route: `${method} ${path}`,
            status,
            code,
          });
          expect(String(example?.status)).toBe(status === 'default' ? '500' : status);
        }
      }
    }
    const codesOf = (method: string, path: string, status: string): string[] =>
      Object.keys(
        (
          doc.paths[path]?.[method]?.responses[status]?.content?.['application/problem+json'] as {
            examples: Record<string, unknown>;
          }
        ).examples,
      );
    const token = '/v1/workflows/{workflowId}/tokens/{tokenId}';
    expect(codesOf('get', token, '404').sort()).toEqual(['TOKEN_NOT_FOUND', 'WORKFLOW_NOT_FOUND']);
    expect(codesOf('get', '/v1/admin/keys/{keyId}', '404')).toEqual(['KEY_NOT_FOUND']);
    expect(codesOf('get', '/v1/webhooks/{webhookId}', '404')).toEqual(['WEBHOOK_NOT_FOUND']);
    expect(codesOf('post', '/v1/webhooks', '400')).toEqual(
      expect.arrayContaining(['VALIDATION_ERROR', 'WEBHOOK_URL_INVALID', 'WEBHOOK_TARGET_REFUSED']),
    );
    expect(codesOf('post', '/v1/webhooks', '409')).toContain('WEBHOOK_LIMIT');
    expect(codesOf('get', '/v1/webhooks', '400')).not.toContain('WEBHOOK_TARGET_REFUSED');
    expect(codesOf('post', `${token}/fire`, '422')).toEqual(
      expect.arrayContaining(['TRANSITION_NOT_ENABLED', 'GUARD_FAILED']),
    );
    expect(codesOf('post', `${token}/fire`, '401')).toEqual(['UNAUTHENTICATED']);
    expect(codesOf('get', token, 'default')).toEqual(['INTERNAL_ERROR']);

    const fixture = JSON.parse(
      readFileSync(join(__dirname, '../../../fixtures/workflows/order-processing.json'), 'utf8'),
    ) as { id: string };
    const define = doc.paths['/v1/workflows']?.post?.requestBody?.content['application/json'] as {
      example: unknown;
    };
    expect(define.example).toEqual(fixture);
    const fire = doc.paths[`${token}/fire`]?.post;
    const workflowId = (fire?.parameters ?? []).find((p) => p.name === 'workflowId') as {
      example?: string;
    };
    expect(workflowId.example).toBe(fixture.id);
  });

  it('documents live events as text/event-stream', () => {
    for (const path of [
      '/v1/workflows/{workflowId}/events',
      '/v1/workflows/{workflowId}/tokens/{tokenId}/events',
    ]) {
      const op = doc.paths[path]?.get;
      expect(Object.keys(op?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
      expect(op?.parameters?.map((p) => p.name)).toEqual(
        expect.arrayContaining(['since', 'last-event-id']),
      );
    }
    expect(Object.keys(doc.paths['/metrics']?.get?.responses['200']?.content ?? {})).toEqual([
      'text/plain',
    ]);
  });

  it('serves Swagger UI at /docs', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/<html/i);
    expect(res.body).toContain('swagger-ui');
    const init = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(init.statusCode).toBe(200);
    const json = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(json.json<Document>().info.title).toBe('Circuit Breaker');
  });
});

describe('OpenAPI 3.1: route schemas are JSON Schema as they are', () => {
  it('keeps numeric exclusive bounds and keywords OpenAPI 3.0 lacked (propertyNames)', async () => {
    const app = appWithoutNats();
    // In a plugin, like the real routes: registered after @fastify/swagger started collecting.
    app.register(async (instance) => {
      instance.post(
        '/v1/test-only',
        {
          config: { scope: 'read' },
          schema: {
            operationId: 'testOnly',
            tags: ['operations'],
            body: Type.Object({
              keys: Type.Record(Type.String(), Type.Integer({ exclusiveMinimum: 0 }), {
                propertyNames: { minLength: 1, maxLength: 8 },
              }),
              ratio: Type.Number({ exclusiveMaximum: 1 }),
            }),
          },
        },
        async () => ({}),
      );
    });
    try {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<Document>();
      expect(doc.openapi).toBe('3.1.0');
      await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
      const body = (
        doc.paths['/v1/test-only']?.post?.requestBody?.content['application/json'] as {
          schema: { properties: Record<string, Record<string, unknown>> };
        }
      ).schema;
      expect(body.properties.keys).toMatchObject({
        propertyNames: { minLength: 1, maxLength: 8 },
        additionalProperties: { type: 'integer', exclusiveMinimum: 0 },
      });
      expect(body.properties.ratio).toEqual({ type: 'number', exclusiveMaximum: 1 });
      expect(JSON.stringify(body)).not.toContain('"x-');
    } finally {
      await app.close();
    }
  });
});
