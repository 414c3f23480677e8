import type { KeyStore } from '@cb/auth';
import {
  ERRORS,
  commandKindOf,
  type ApiKeyRecord,
  type CommandReply,
  type CommandRequest,
  type Token,
} from '@cb/schemas';
import { ApiError } from './api-error';
import type { App } from './app';
import { CommandClient } from './command-client';
import { Reads } from './read/reads';
import { TEST_ADMIN_HEADERS, appWithoutNats } from './testing/app-without-nats';

/**
 * In-process (app.inject) tests of what the gateway makes of its dependencies' answers: error
 * mapping, write headers and cursors. No NATS: the command client is the real one over a fake
 * `send`, so its mapping of command replies to errors is what is tested.
 */

const T0 = '2026-01-01T00:00:00.000Z';
const TOKEN: Token = {
  id: 'post-1',
  workflowId: 'wf1',
  definitionVersion: 1,
  place: 'review',
  data: {},
  metadata: {},
  createdAt: T0,
  updatedAt: T0,
  placeEnteredAt: T0,
  version: 42,
};

interface Sent {
  kind: string;
  request: CommandRequest;
  requestId: string;
}

/** A CommandClient whose `send` answers `reply` (or throws it) and records what it was sent. */
function commandsAnswering(reply: CommandReply | Error, sent: Sent[] = []): CommandClient {
  const client = Object.create(CommandClient.prototype) as CommandClient;
  client.send = async (request, requestId) => {
    // The subject's kind, as the client derives it from the command type.
    sent.push({ kind: commandKindOf(request.command.type), request, requestId });
    if (reply instanceof Error) throw reply;
    return reply;
  };
  return client;
}

const ok = (token: Token = TOKEN): CommandReply => ({
  ok: true,
  kind: 'token',
  token,
  duplicate: false,
  deleted: false,
});

const fire = (app: App, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url: '/v1/workflows/wf1/tokens/post-1/fire',
    headers: { ...TEST_ADMIN_HEADERS, 'content-type': 'application/json', ...headers },
    payload: { transition: 'approve' },
  });

describe('error mapping', () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each([
    ['VERSION_MISMATCH', { expectedVersion: 3, currentVersion: 4 }],
    ['TOKEN_NOT_FOUND', undefined],
    ['TRANSITION_NOT_ENABLED', { transition: 'approve', place: 'draft', enabledTransitions: [] }],
    ['GUARD_FAILED', { transition: 'approve', failures: [], failureCount: 1 }],
    ['COMMAND_TIMEOUT', undefined],
  ] as const)(
    'a command reply failing with %s is its status, as problem+json with the code and the details',
    async (code, details) => {
      const reply: CommandReply = {
        ok: false,
        error: { code, message: `it failed: ${code}`, ...(details ? { details } : {}) },
      };
      app = appWithoutNats({ commands: commandsAnswering(reply) });
      const res = await fire(app, { 'x-request-id': 'req-1' });
      expect(res.statusCode).toBe(ERRORS[code].status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.headers['x-request-id']).toBe('req-1');
      expect(res.json()).toEqual({
        type: `https://circuit-breaker.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
        title: ERRORS[code].title,
        status: ERRORS[code].status,
        code,
        detail: `it failed: ${code}`,
        instance: '/v1/workflows/wf1/tokens/post-1/fire',
        requestId: 'req-1',
        ...details,
      });
    },
  );

  it('an ApiError thrown by a dependency is its code; retryAfterSeconds becomes Retry-After', async () => {
    const unavailable = new ApiError('COMMAND_SERVICE_UNAVAILABLE', 'no command service answers', {
      retryAfterSeconds: 2,
    });
    app = appWithoutNats({ commands: commandsAnswering(unavailable) });
    const res = await fire(app);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('2');
    expect(res.json()).toMatchObject({ code: 'COMMAND_SERVICE_UNAVAILABLE', status: 503 });
    expect(res.json()).not.toHaveProperty('retryAfterSeconds');
  });

  it('anything else thrown is 500 INTERNAL_ERROR, without its message', async () => {
    app = appWithoutNats({ commands: commandsAnswering(new Error('secret internals')) });
    const res = await fire(app);
    expect(res.statusCode).toBe(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'INTERNAL_ERROR',
      requestId: res.headers['x-request-id'],
    });
    expect(res.body).not.toContain('secret internals');
  });

  it('a reply of the wrong kind is 500 INTERNAL_ERROR', async () => {
    const workflow = { ok: true, kind: 'workflow', duplicate: false } as unknown as CommandReply;
    app = appWithoutNats({ commands: commandsAnswering(workflow) });
    expect((await fire(app)).json()).toMatchObject({ code: 'INTERNAL_ERROR', status: 500 });
  });
});

describe('write headers', () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a create answers 201 with Location, ETag and X-Request-Id, and sends the Idempotency-Key', async () => {
    const sent: Sent[] = [];
    app = appWithoutNats({ commands: commandsAnswering(ok(), sent) });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workflows/wf1/tokens',
      headers: {
        ...TEST_ADMIN_HEADERS,
        'content-type': 'application/json',
        'idempotency-key': 'k-1',
      },
      payload: { data: { title: 'x' } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.headers.location).toBe('/v1/workflows/wf1/tokens/post-1');
    expect(res.headers.etag).toBe('"42"');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json()).toEqual(TOKEN);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      kind: 'token.create',
      request: {
        command: { type: 'CreateToken', workflowId: 'wf1', data: { title: 'x' } },
        idempotencyKey: 'k-1',
      },
      requestId: res.headers['x-request-id'],
    });
  });

  it('a fire answers the new ETag, passes If-Match on as the expected version and echoes a given X-Request-Id', async () => {
    const sent: Sent[] = [];
    app = appWithoutNats({ commands: commandsAnswering(ok({ ...TOKEN, version: 43 }), sent) });
    const res = await fire(app, { 'if-match': '"42"', 'x-request-id': 'client-id.7' });
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"43"');
    expect(res.headers['x-request-id']).toBe('client-id.7');
    expect(sent[0]?.request).toMatchObject({ expectedVersion: 42 });
    expect(sent[0]?.requestId).toBe('client-id.7');
  });

  it('a request id that is not safe to echo is replaced by a fresh one', async () => {
    app = appWithoutNats({ commands: commandsAnswering(ok()) });
    const res = await fire(app, { 'x-request-id': 'has spaces and "quotes"' });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('cursors', () => {
  let app: App | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const record = (id: string): ApiKeyRecord => ({
    id,
    tenant: 'acme',
    scopes: ['read'],
    createdAt: T0,
    createdBy: { tenant: 'default', keyId: 'root' },
    hash: '0'.repeat(64),
  });
  const keys = {
    list: async () => ['aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2', 'aaaaaaaaaaaaaaa3'].map(record),
  } as unknown as KeyStore;
  const listKeys = (query: string) =>
    app!.inject({ method: 'GET', url: `/v1/admin/keys?${query}`, headers: TEST_ADMIN_HEADERS });

  const expectBadCursor = (res: Awaited<ReturnType<typeof listKeys>>): void => {
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      errors: [{ path: 'querystring/cursor', message: 'is not a cursor of this list' }],
    });
  };

  it('a nextCursor continues its list strictly after its last item', async () => {
    app = appWithoutNats({ keys });
    const first = await listKeys('limit=2');
    expect(first.statusCode).toBe(200);
    const page = first.json() as { items: Array<{ id: string }>; nextCursor?: string };
    expect(page.items.map((k) => k.id)).toEqual(['aaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaa2']);
    const next = await listKeys(`limit=2&cursor=${page.nextCursor}`);
    expect(next.json()).toEqual({ items: [expect.objectContaining({ id: 'aaaaaaaaaaaaaaa3' })] });
  });

  it('a malformed, tampered or foreign cursor is 400 VALIDATION_ERROR', async () => {
    app = appWithoutNats({ keys });
    const { nextCursor } = (await listKeys('limit=1')).json() as { nextCursor: string };
    const decoded = JSON.parse(Buffer.from(nextCursor, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const encode = (c: unknown): string => Buffer.from(JSON.stringify(c)).toString('base64url');

    expectBadCursor(await listKeys('cursor=not-base64-json'));
    expectBadCursor(await listKeys(`cursor=${nextCursor.slice(0, -3)}`));
    expectBadCursor(await listKeys(`cursor=${encode({ ...decoded, a: 'x.>' })}`)); // unsafe id
    expectBadCursor(await listKeys(`cursor=${encode({ ...decoded, extra: 1 })}`));
    // The cursor of another list: the same keys filtered by tenant.
    expectBadCursor(await listKeys(`tenant=acme&cursor=${nextCursor}`));
  });

  it('a list served by the read models refuses a bad cursor before it reads anything', async () => {
    const never = {} as never;
    const reads = new Reads(never, never, never, never, never, never, never, {
      lagWaitMs: 1000,
      scanTimeoutMs: 1000,
    });
    app = appWithoutNats({ reads });
    const res = await app.inject({
      method: 'GET',
      url: `/v1/workflows?cursor=${Buffer.from('{"l":"workflows:other","a":"wf1"}').toString('base64url')}`,
      headers: TEST_ADMIN_HEADERS,
    });
    expectBadCursor(res);
  });
});
