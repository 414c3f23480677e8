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
  ['get', '/v1/tokens/{tokenId}'],
  ['get', '/v1/tokens'],
  ['get', '/v1/workflows/{workflowId}/events'],
  ['get', '/v1/workflows/{workflowId}/tokens/{tokenId}/events'],
  ['post', '/v1/admin/keys'],
  ['get', '/v1/admin/keys'],
  ['get', '/v1/admin/keys/{keyId}'],
  ['delete', '/v1/admin/keys/{keyId}'],
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
    { description: string; content?: Record<string, { schema?: unknown }> }
  >;
}
interface Document {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

describe('OpenAPI document and Swagger UI', () => {
  let app: App;
  let doc: Document;

  beforeAll(async () => {
    app = appWithoutNats();
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.json<Document>();
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
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
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
      'POST /v1/sessions': 'authenticated',
    });
    for (const [route, scope] of scopes) {
      if (route.startsWith('GET ') && !route.includes('/admin/') && !route.includes('/sessions')) {
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
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
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

  it('renders the metadata.<key> search parameters (patternProperties)', () => {
    const search = doc.paths['/v1/tokens']?.get;
    const params = search?.parameters ?? [];
    expect(params.map((p) => p.name)).toEqual(
      expect.arrayContaining(['workflowId', 'place', 'limit', 'cursor', 'minSeq', 'metadata']),
    );
    const metadata = params.find((p) => p.name === 'metadata');
    expect(metadata).toMatchObject({
      in: 'query',
      style: 'form',
      explode: true,
      schema: { type: 'object', additionalProperties: { type: 'string' } },
    });
    expect(JSON.stringify(doc)).not.toContain('patternProperties');
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

describe('OpenAPI 3.0 rendering of JSON Schema keywords it lacks', () => {
  it('turns numeric exclusive bounds into the boolean form and keeps other keywords as x-…', async () => {
    const app = appWithoutNats();
    // In a plugin, like the real routes: registered after @fastify/swagger started collecting.
    app.register(async (instance) => {
      instance.post(
        '/v1/test-only',
        {
          config: { scope: 'read' },
          schema: {
            tags: ['operations'],
            body: Type.Object({
              keys: Type.Record(Type.String(), Type.Integer({ exclusiveMinimum: 0 }), {
                propertyNames: { minLength: 1, maxLength: 8 },
              }),
              pair: Type.Tuple([Type.String(), Type.Number({ exclusiveMaximum: 1 })]),
            }),
          },
        },
        async () => ({}),
      );
    });
    try {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<Document>();
      await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
      const body = (
        doc.paths['/v1/test-only']?.post?.requestBody?.content['application/json'] as {
          schema: { properties: Record<string, Record<string, unknown>> };
        }
      ).schema;
      expect(body.properties.keys).toMatchObject({
        'x-propertyNames': { minLength: 1, maxLength: 8 },
        additionalProperties: { type: 'integer', minimum: 0, exclusiveMinimum: true },
      });
      expect(body.properties.keys).not.toHaveProperty('propertyNames');
      expect(body.properties.pair).toMatchObject({ type: 'array', items: {} });
      expect(body.properties.pair?.['x-items']).toHaveLength(2);
    } finally {
      await app.close();
    }
  });
});
