import type { components } from '@cb/client';
import { loadFixtureWorkflow } from '@cb/testing';
import { startE2eStack, type ApiResponse, type E2eStack, expectProblem } from './stack';

jest.setTimeout(60_000);

let stack: E2eStack;
const call: E2eStack['call'] = (...args) => stack.call(...args);

interface TokenBody {
  id: string;
  place: string;
  version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  definitionVersion: number;
}

const createToken: E2eStack['createToken'] = (...args) => stack.createToken(...args);

beforeAll(async () => {
  stack = await startE2eStack();
  for (const name of [
    'document-review',
    'article-publishing',
    'order-processing',
    'software-deployment',
  ] as const) {
    const { response } = await stack.client.POST('/v1/workflows', {
      body: loadFixtureWorkflow(name),
    });
    expect(response.status).toBe(201);
  }
});

afterAll(async () => {
  await stack?.stop();
});

describe('definitions', () => {
  it('returns the definition with its analysis, version and ETag; refuses a duplicate id', async () => {
    const def = {
      ...loadFixtureWorkflow('document-review'),
      id: 'dr_copy',
      places: [...loadFixtureWorkflow('document-review').places, 'limbo'],
    };
    const created = await stack.client.POST('/v1/workflows', { body: def });
    expect(created.response.status).toBe(201);
    expect(created.response.headers.get('etag')).toBe('"1"');
    expect(created.response.headers.get('location')).toBe('/v1/workflows/dr_copy');
    expect(created.data).toMatchObject({
      id: 'dr_copy',
      version: 1,
      analysis: { unreachablePlaces: ['limbo'], deadEndPlaces: ['limbo'] },
    });
    expectProblem(await stack.client.POST('/v1/workflows', { body: def }), 409, 'WORKFLOW_EXISTS');
    const version = (
      workflowId: string,
      body: components['schemas']['WorkflowVersionInput'],
      ifMatch?: string,
    ) =>
      stack.client.PUT('/v1/workflows/{workflowId}', {
        params: { path: { workflowId }, header: ifMatch ? { 'if-match': ifMatch } : {} },
        body,
      });
    const v2 = await version(
      'dr_copy',
      { ...def, id: undefined, places: def.places.slice(0, -1) },
      '"1"',
    );
    expect(v2.response.status).toBe(200);
    expect(v2.data).toMatchObject({ version: 2, analysis: { unreachablePlaces: [] } });
    expectProblem(await version('dr_copy', def, '"1"'), 412, 'VERSION_MISMATCH');
    expectProblem(await version('nowhere', { ...def, id: 'nowhere' }), 404, 'WORKFLOW_NOT_FOUND');
  });

  it('rejects undeclared places, duplicate ids and guards that are not JSON Schema', async () => {
    const base = loadFixtureWorkflow('document-review');
    const bad = {
      ...base,
      id: 'broken',
      transitions: [
        ...base.transitions,
        { id: 'submit', from: ['nowhere'], to: 'elsewhere', guard: { type: 'objekt' } },
      ],
    };
    const res = await call<{ errors: { path: string }[] }>('POST', '/v1/workflows', bad);
    expectProblem(res as ApiResponse, 400, 'VALIDATION_ERROR');
    const paths = res.body.errors.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/transitions/5/from/0', '/transitions/5/to']));
    expect(paths.some((p) => p.startsWith('/transitions/5/guard'))).toBe(true);
  });
});

describe('concurrency', () => {
  it('30 concurrent fires with the same If-Match: one 200, 29 × 412, one new event', async () => {
    const token = await createToken('document_review');
    const subject = stack.naming.tokenSubject('default', 'document_review', token.id);
    const before = await stack.countOn(subject);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        stack.client.POST('/v1/workflows/{workflowId}/tokens/{tokenId}/fire', {
          params: {
            path: { workflowId: 'document_review', tokenId: token.id },
            header: { 'if-match': `"${token.version}"` },
          },
          body: { transition: 'submit' },
        }),
      ),
    );
    const statuses = results.map((r) => r.response.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(29);
    for (const r of results.filter((x) => x.response.status === 412))
      expectProblem(r, 412, 'VERSION_MISMATCH');
    expect(await stack.countOn(subject)).toBe(before + 1);
  });

  it('30 concurrent submits without If-Match: one succeeds, none is a 5xx, one event', async () => {
    const token = await createToken('document_review');
    const subject = stack.naming.tokenSubject('default', 'document_review', token.id);
    const before = await stack.countOn(subject);
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        call('POST', `/v1/workflows/document_review/tokens/${token.id}/fire`, {
          transition: 'submit',
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s >= 500)).toHaveLength(0);
    for (const r of results.filter((x) => x.status !== 200))
      expectProblem(r, 422, 'TRANSITION_NOT_ENABLED');
    expect(await stack.countOn(subject)).toBe(before + 1);
  });
});

describe('idempotency', () => {
  it('the same create ten times with one Idempotency-Key: one event, ten identical responses', async () => {
    const info = async () => (await stack.jsm.streams.info(stack.naming.stream)).state.messages;
    const before = await info();
    const results = [];
    for (let i = 0; i < 10; i++) {
      results.push(
        await call(
          'POST',
          '/v1/workflows/order_processing/tokens',
          { data: { sku: 'A-1' } },
          { 'idempotency-key': 'order-create-1' },
        ),
      );
    }
    expect(new Set(results.map((r) => `${r.status} ${r.text}`)).size).toBe(1);
    expect(results[0]!.status).toBe(201);
    expect(await info()).toBe(before + 1);
  });

  it('the same fire ten times (concurrently) with one Idempotency-Key: one event, ten identical responses', async () => {
    const token = await createToken('order_processing');
    const subject = stack.naming.tokenSubject('default', 'order_processing', token.id);
    const before = await stack.countOn(subject);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(
          'POST',
          `/v1/workflows/order_processing/tokens/${token.id}/fire`,
          { transition: 'checkout' },
          { 'idempotency-key': `checkout-${token.id}` },
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    expect(await stack.countOn(subject)).toBe(before + 1);
    expectProblem(
      await call(
        'POST',
        `/v1/workflows/order_processing/tokens/${token.id}/fire`,
        { transition: 'cancel' },
        { 'idempotency-key': `checkout-${token.id}` },
      ),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
  });
});

describe('bad input gets a 4xx problem with a code, never a 5xx', () => {
  it('malformed JSON, wrong types, unknown fields, empty and non-JSON bodies', async () => {
    const t = await createToken('document_review');
    const fire = `/v1/workflows/document_review/tokens/${t.id}/fire`;
    expectProblem(await call('POST', fire, '{"transition": "submit"'), 400, 'VALIDATION_ERROR');
    expectProblem(await call('POST', fire, { transition: 5 }), 400, 'VALIDATION_ERROR');
    expectProblem(
      await call('POST', fire, { transition: 'submit', data: 'text' }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await call('POST', fire, { transition: 'submit', extra: true }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(await call('POST', fire, {}), 400, 'VALIDATION_ERROR');
    expectProblem(
      await call('POST', fire, '', { 'content-type': 'application/json' }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await call('POST', fire, 'transition=submit', { 'content-type': 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(
      await call('POST', fire, { transition: 'submit' }, { 'if-match': 'yesterday' }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(await call('POST', '/v1/workflows', { id: 'x' }), 400, 'VALIDATION_ERROR');
    expectProblem(await call('GET', '/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
  });

  it('unknown workflow, token and transition', async () => {
    expectProblem(await call('POST', '/v1/workflows/nope/tokens', {}), 404, 'WORKFLOW_NOT_FOUND');
    expectProblem(
      await call('POST', '/v1/workflows/document_review/tokens/ghost/fire', {
        transition: 'submit',
      }),
      404,
      'TOKEN_NOT_FOUND',
    );
    expectProblem(
      await call('GET', '/v1/workflows/document_review/tokens/ghost?consistency=strong'),
      404,
      'TOKEN_NOT_FOUND',
    );
    const t = await createToken('document_review');
    const res = await call('POST', `/v1/workflows/document_review/tokens/${t.id}/fire`, {
      transition: 'teleport',
    });
    expectProblem(res, 422, 'TRANSITION_NOT_ENABLED');
    expect(res.body).toMatchObject({ place: 'draft', enabledTransitions: ['submit'] });
  });

  it.each([
    ['a dot', 'a.b'],
    ['a space', 'a b'],
    ['a star', 'a*'],
    ['a greater-than', 'a>'],
    ['200 characters', 'x'.repeat(200)],
  ])('ids with %s, in paths and bodies', async (_label, id) => {
    const enc = encodeURIComponent(id);
    expectProblem(await call('POST', `/v1/workflows/${enc}/tokens`, {}), 400, 'VALIDATION_ERROR');
    expectProblem(
      await call('POST', `/v1/workflows/document_review/tokens/${enc}/fire`, {
        transition: 'submit',
      }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await call('POST', '/v1/workflows/document_review/tokens', { id }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await call('POST', '/v1/workflows', { ...loadFixtureWorkflow('document-review'), id }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('undeclared places', async () => {
    expectProblem(
      await call('POST', '/v1/workflows/document_review/tokens', { place: 'moon' }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('a 5 MB body', async () => {
    const res = await call('POST', '/v1/workflows/document_review/tokens', {
      data: { blob: 'x'.repeat(5 * 1024 * 1024) },
    });
    expectProblem(res, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('deeply nested data (10,000 levels)', async () => {
    const body = `{"data":${'{"d":'.repeat(10_000)}1${'}'.repeat(10_000)}}`;
    expectProblem(
      await call('POST', '/v1/workflows/document_review/tokens', body),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('a transition from the wrong place', async () => {
    const t = await createToken('document_review');
    const res = await call('POST', `/v1/workflows/document_review/tokens/${t.id}/fire`, {
      transition: 'approve',
    });
    expectProblem(res, 422, 'TRANSITION_NOT_ENABLED');
    expect(res.body).toMatchObject({ transition: 'approve', place: 'draft' });
  });

  it('failing guards: 50 words blocked, 150 words pass, the emergency anyOf branch publishes', async () => {
    const short = await createToken('article_publishing', {
      data: { title: 'T', content: 'C', word_count: 50 },
    });
    const blocked = await call<{ failures: { path: string }[] }>(
      'POST',
      `/v1/workflows/article_publishing/tokens/${short.id}/fire`,
      { transition: 'submit' },
    );
    expectProblem(blocked as ApiResponse, 422, 'GUARD_FAILED');
    expect(blocked.body.failures.map((f) => f.path)).toContain('/data/word_count');

    const long = await createToken('article_publishing', {
      data: { title: 'T', content: 'C', word_count: 150 },
    });
    const fire = (transition: string, extra: Record<string, unknown> = {}) =>
      call<TokenBody>('POST', `/v1/workflows/article_publishing/tokens/${long.id}/fire`, {
        transition,
        ...extra,
      });
    expect((await fire('submit')).status).toBe(200);
    expect((await fire('approve', { metadata: { reviewer: 'ann' } })).status).toBe(200);
    const notYet = await fire('publish');
    expectProblem(notYet as unknown as ApiResponse, 422, 'GUARD_FAILED');
    const published = await fire('publish', { metadata: { emergency: true } });
    expect(published.status).toBe(200);
    expect(published.body.place).toBe('published');
  });
});

describe('tokens', () => {
  it('merge-patches data on fire and records the patch in the event', async () => {
    const t = await createToken('document_review', { data: { a: 1 } });
    const { data: fired, response } = await stack.client.POST(
      '/v1/workflows/{workflowId}/tokens/{tokenId}/fire',
      {
        params: { path: { workflowId: 'document_review', tokenId: t.id } },
        body: { transition: 'submit', data: { b: 2 } },
      },
    );
    expect(response.status).toBe(200);
    expect(fired?.data).toEqual({ a: 1, b: 2 });
    expect(response.headers.get('etag')).toBe(`"${fired?.version}"`);
    const event = await stack.jsm.direct.getMessage(stack.naming.stream, {
      seq: fired!.version,
    });
    expect(event?.json()).toMatchObject({
      type: 'token.transitioned.v1',
      transition: 'submit',
      dataPatch: { b: 2 },
    });
  });

  it('PATCH merges (null deletes), strong GET reads the stream, DELETE hides the token', async () => {
    const t = await createToken('document_review', {
      id: 'patch-me',
      data: { a: 1, b: 2 },
      metadata: { owner: 'x' },
    });
    const path = { workflowId: 'document_review', tokenId: 'patch-me' };
    const patched = await stack.client.PATCH('/v1/workflows/{workflowId}/tokens/{tokenId}', {
      params: { path, header: { 'if-match': `"${t.version}"` } },
      headers: { 'content-type': 'application/merge-patch+json' },
      body: { data: { b: null, c: 3 } },
    });
    expect(patched.response.status).toBe(200);
    expect(patched.data?.data).toEqual({ a: 1, c: 3 });
    const read = await stack.client.GET('/v1/workflows/{workflowId}/tokens/{tokenId}', {
      params: { path, query: { consistency: 'strong' } },
    });
    expect(read.data).toEqual(patched.data);
    expect(read.response.headers.get('etag')).toBe(`"${patched.data?.version}"`);
    const deleted = await stack.client.DELETE('/v1/workflows/{workflowId}/tokens/{tokenId}', {
      params: { path },
    });
    expect(deleted.response.status).toBe(204);
    expectProblem(
      await call('GET', '/v1/workflows/document_review/tokens/patch-me?consistency=strong'),
      404,
      'TOKEN_NOT_FOUND',
    );
    expectProblem(
      await call('POST', '/v1/workflows/document_review/tokens', { id: 'patch-me' }),
      409,
      'TOKEN_EXISTS',
    );
  });

  it('echoes the request id and carries it into the event', async () => {
    const res = await call<TokenBody>(
      'POST',
      '/v1/workflows/document_review/tokens',
      {},
      { 'x-request-id': 'req-12345' },
    );
    expect(res.headers.get('x-request-id')).toBe('req-12345');
    const event = await stack.jsm.direct.getMessage(stack.naming.stream, { seq: res.body.version });
    expect(event?.json()).toMatchObject({ requestId: 'req-12345' });
    expect(event?.header?.get('Cb-Request-Id')).toBe('req-12345');
    const problem = await call(
      'POST',
      '/v1/workflows/nope/tokens',
      {},
      { 'x-request-id': 'req-67890' },
    );
    expect(problem.body.requestId).toBe('req-67890');
  });
});

describe('when no command service runs', () => {
  it('answers 503 COMMAND_SERVICE_UNAVAILABLE with Retry-After', async () => {
    await stack.command.stop();
    const res = await call('POST', '/v1/workflows/document_review/tokens', {});
    expectProblem(res, 503, 'COMMAND_SERVICE_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
