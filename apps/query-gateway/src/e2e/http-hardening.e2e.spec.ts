import { jsApiConsumerCreate, jsApiDirectGet, kvStreamName } from '@cb/subjects';
import type { Subscription } from '@nats-io/transport-node';
import {
  adminAuthorization,
  deploymentEnv,
  loadFixtureWorkflow,
  startServiceStack,
  uniqueNaming,
  type ServiceStack,
} from '@cb/testing';
import { RawConnection, rawExchange, type RawResponse } from './raw-http';
import { api, expectProblem, startE2eStack, type E2eStack } from './stack';

jest.setTimeout(180_000);

/** With projection workers: reads catch up. */
let stack: E2eStack;
/** On the same NATS, another deployment without projection workers: reads with minSeq lag. */
let lagging: ServiceStack;
const LAG_WAIT_MS = 3000;
const laggingNaming = uniqueNaming();
/** The lagging deployment's root credential. */
let laggingAuth: { authorization: string };

const call: E2eStack['call'] = (...args) => stack.call(...args);
const port = (): number => Number(new URL(stack.baseUrl).port);

interface TokenBody {
  id: string;
  version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

const DR = '/v1/workflows/document_review';

async function create(body: unknown, base = stack.baseUrl): Promise<TokenBody> {
  const auth = base === stack.baseUrl ? { authorization: stack.authorization } : laggingAuth;
  const res = await api<TokenBody>(base, 'POST', `${DR}/tokens`, body, auth);
  expect(res.status).toBe(201);
  return res.body;
}

/** A raw response that is problem+json with this status and code, echoing none of `secrets`. */
function expectRawProblem(
  res: RawResponse | undefined,
  status: number,
  code: string,
  secrets: string[] = [],
): Record<string, unknown> {
  expect(res).toBeDefined();
  const body = JSON.parse(res!.body) as Record<string, unknown>;
  expect({ status: res!.status, code: body.code }).toEqual({ status, code });
  expect(res!.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res!.body).not.toMatch(/\bat .+\.(ts|js):\d+/);
  for (const secret of secrets) expect(res!.body).not.toContain(secret);
  return body;
}

function request(method: string, path: string, headers: string[] = []): string {
  return [
    `${method} ${path} HTTP/1.1`,
    'Host: gateway',
    ...headers,
    'Connection: close',
    '',
    '',
  ].join('\r\n');
}

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn' },
    { projectionWorkers: 2, workflows: ['document-review', 'order-processing'] },
  );
  const laggingEnv = deploymentEnv(stack.nats.url, laggingNaming, {
    LOG_LEVEL: 'info',
    MIN_SEQ_WAIT_MS: String(LAG_WAIT_MS),
  });
  laggingAuth = adminAuthorization(laggingEnv);
  lagging = await startServiceStack(laggingEnv);
  const defined = await api(
    lagging.gatewayUrl,
    'POST',
    '/v1/workflows',
    loadFixtureWorkflow('document-review'),
    laggingAuth,
  );
  expect(defined.status).toBe(201);
});

afterAll(async () => {
  await lagging?.stop();
  await stack?.stop();
});

describe('issue 10, measured 5: numbers change silently', () => {
  it('PATCH {"data":{"keep":1e400}} answers 400 NUMBER_OUT_OF_RANGE and deletes nothing', async () => {
    const token = await create({ id: 'num-patch', data: { keep: 1 } });
    const res = await call('PATCH', `${DR}/tokens/num-patch`, '{"data":{"keep":1e400}}', {
      'content-type': 'application/merge-patch+json',
    });
    expectProblem(res, 400, 'NUMBER_OUT_OF_RANGE');
    expect(res.body.errors).toEqual([
      { path: 'body/data/keep', message: expect.stringContaining('1e400 is too large') },
    ]);
    const strong = await call<TokenBody>('GET', `${DR}/tokens/num-patch?consistency=strong`);
    expect(strong.body).toMatchObject({ version: token.version, data: { keep: 1 } });
    const history = await call<{ items: Array<{ event: { type: string } }> }>(
      'GET',
      `${DR}/tokens/num-patch/history`,
    );
    expect(history.body.items.map((i) => i.event.type)).toEqual(['token.created.v1']);
    expect(history.text).not.toContain('"keep":null');
  });

  it('a create with 1e400 (or 1e-400) stores nothing, and says where the number is', async () => {
    for (const [body, path] of [
      ['{"id":"num-create","data":{"x":1e400}}', 'body/data/x'],
      ['{"id":"num-create","metadata":{"list":[1,-1E-400]}}', 'body/metadata/list/1'],
    ] as const) {
      const res = await call('POST', `${DR}/tokens`, body);
      expectProblem(res, 400, 'NUMBER_OUT_OF_RANGE');
      expect((res.body.errors as Array<{ path: string }>)[0]?.path).toBe(path);
    }
    expectProblem(
      await call('GET', `${DR}/tokens/num-create?consistency=strong`),
      404,
      'TOKEN_NOT_FOUND',
    );
  });

  it('integers beyond ±(2^53−1) are refused (send them as strings); within it and as strings they are kept exactly', async () => {
    const res = await call(
      'POST',
      `${DR}/tokens`,
      '{"id":"num-big","data":{"n":9007199254740993}}',
    );
    expectProblem(res, 400, 'NUMBER_OUT_OF_RANGE');
    expect((res.body.errors as Array<{ message: string }>)[0]?.message).toMatch(
      /integer beyond ±9007199254740991.*send it as a string/,
    );
    await create(
      '{"id":"num-big","data":{"n":9007199254740991,"s":"9007199254740993","m":-9007199254740991}}',
    );
    const read = await call('GET', `${DR}/tokens/num-big?consistency=strong`);
    expect(read.text).toContain('"n":9007199254740991');
    expect(read.text).toContain('"s":"9007199254740993"');
    expect(read.text).toContain('"m":-9007199254740991');
  });

  it('every body is checked: fire, and a workflow definition', async () => {
    await create({ id: 'num-fire' });
    expectProblem(
      await call(
        'POST',
        `${DR}/tokens/num-fire/fire`,
        '{"transition":"submit","data":{"n":1e999}}',
      ),
      400,
      'NUMBER_OUT_OF_RANGE',
    );
    const definition = JSON.stringify({ ...loadFixtureWorkflow('order-processing'), id: 'num_wf' });
    const res = await call('POST', '/v1/workflows', definition.replace(/}$/, ',"x":1e400}'));
    expectProblem(res, 400, 'NUMBER_OUT_OF_RANGE');
    expect((res.body.errors as Array<{ path: string }>)[0]?.path).toBe('body/x');
  });

  it('__proto__ and constructor.prototype keys are refused with their path and why', async () => {
    await create({ id: 'num-proto' });
    const patch = await call(
      'PATCH',
      `${DR}/tokens/num-proto`,
      '{"data":{"a":{"__proto__":{"polluted":true}}}}',
      { 'content-type': 'application/merge-patch+json' },
    );
    expectProblem(patch, 400, 'VALIDATION_ERROR');
    expect(patch.body.errors).toEqual([
      {
        path: 'body/data/a/__proto__',
        message: 'key __proto__ is not allowed: it names an object prototype',
      },
    ]);
    const created = await call(
      'POST',
      `${DR}/tokens`,
      '{"metadata":{"constructor":{"prototype":{"x":1}}}}',
    );
    expectProblem(created, 400, 'VALIDATION_ERROR');
    expect((created.body.errors as Array<{ path: string }>)[0]?.path).toBe(
      'body/metadata/constructor/prototype',
    );
  });
});

describe('issue 10, measured 6: 5xx and waits on bad parameters', () => {
  it('GET /v1/workflows/x?version=1e400 answers 400, not 500', async () => {
    for (const version of ['1e400', 'Infinity', '9007199254740993']) {
      expectProblem(
        await call('GET', `/v1/workflows/document_review?version=${version}`),
        400,
        'VALIDATION_ERROR',
      );
    }
    expect((await call('GET', '/v1/workflows/document_review?version=1')).status).toBe(200);
  });

  it('tampered history cursors answer 400 (never 503, never a silent restart); real ones page on', async () => {
    const token = await create({ id: 'cursor-1' });
    for (let n = 1; n <= 2; n++) {
      expect((await call('PATCH', `${DR}/tokens/cursor-1`, { data: { n } })).status).toBe(200);
    }
    const list = 'history:document_review:cursor-1';
    for (const a of ['1e300', '0.5', 'Infinity', 'abc', '-5']) {
      const cursor = Buffer.from(JSON.stringify({ l: list, a })).toString('base64url');
      const res = await call('GET', `${DR}/tokens/cursor-1/history?cursor=${cursor}`);
      expectProblem(res, 400, 'VALIDATION_ERROR');
      expect(res.body.errors).toEqual([
        { path: 'querystring/cursor', message: 'is not a cursor of this list' },
      ]);
    }
    type History = { items: Array<{ seq: number }>; nextCursor?: string };
    const first = await call<History>('GET', `${DR}/tokens/cursor-1/history?limit=1`);
    expect(first.body.items.map((i) => i.seq)).toEqual([token.version]);
    const second = await call<History>(
      'GET',
      `${DR}/tokens/cursor-1/history?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.status).toBe(200);
    expect(second.body.items[0]!.seq).toBeGreaterThan(token.version);
  });

  it('minSeq=9007199254740991 answers 400 MIN_SEQ_AHEAD at once on every read that takes minSeq', async () => {
    const token = await create({ id: 'ahead-1', metadata: { k: 'v' } });
    const reads = [
      `${DR}/tokens/ahead-1`,
      `/v1/tokens/ahead-1`,
      `${DR}/tokens`,
      `${DR}/tokens?place=draft`,
      `/v1/tokens?metadata.k=v`,
      `${DR}/stats`,
      `/v1/workflows`,
      `${DR}`,
      `${DR}/tokens/ahead-1/transitions`,
    ];
    // 20 such requests at once cost nothing to the others (measured: 4 s of gateway CPU).
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(
          'GET',
          `${reads[i % reads.length]}${reads[i % reads.length]!.includes('?') ? '&' : '?'}minSeq=9007199254740991`,
        ),
      ),
    );
    for (const res of results) {
      expectProblem(res, 400, 'MIN_SEQ_AHEAD');
      expect(res.body).toMatchObject({ minSeq: 9007199254740991 });
      expect(res.body.lastSeq).toBeGreaterThanOrEqual(token.version);
    }
    // MIN_SEQ_WAIT_MS is 10 s: "at once" is well within it.
    expect(Date.now() - started).toBeLessThan(2000);
    const normal = await call('GET', `${DR}/tokens/ahead-1?minSeq=${token.version}`);
    expect(normal.status).toBe(200);
  });

  it('one past the stream’s last seq is ahead; the last seq itself is not', async () => {
    const token = await create({ id: 'ahead-2' });
    const info = await stack.jsm.streams.info(stack.naming.stream);
    const last = info.state.last_seq;
    expect(last).toBeGreaterThanOrEqual(token.version);
    const ahead = await call('GET', `/v1/tokens/ahead-2?minSeq=${last + 1}`);
    expectProblem(ahead, 400, 'MIN_SEQ_AHEAD');
    expect(ahead.body).toMatchObject({ minSeq: last + 1, lastSeq: last });
    expect((await call('GET', `/v1/tokens/ahead-2?minSeq=${last}`)).status).toBe(200);
  });

  it('a lagging list read waits for the watermarks without re-scanning, then answers 503 PROJECTION_LAGGING', async () => {
    const token = await create({ id: 'lag-1' }, lagging.gatewayUrl);
    const scans: Subscription = stack.nc.subscribe(
      jsApiConsumerCreate(kvStreamName(laggingNaming.readModelBucket('places', 1)), '>'),
    );
    const scansNoFilter = stack.nc.subscribe(
      jsApiConsumerCreate(kvStreamName(laggingNaming.readModelBucket('places', 1))),
    );
    const gets = stack.nc.subscribe(jsApiDirectGet(laggingNaming.stream));
    await stack.nc.flush();
    const started = Date.now();
    const res = await api(
      lagging.gatewayUrl,
      'GET',
      `${DR}/tokens?minSeq=${token.version}`,
      undefined,
      laggingAuth,
    );
    const took = Date.now() - started;
    await stack.nc.flush();
    expectProblem(res, 503, 'PROJECTION_LAGGING');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(took).toBeGreaterThanOrEqual(LAG_WAIT_MS - 100);
    // Before: one scan of the place index every 100 ms (about 30 here) and a direct get per
    // partition with each. Now: no scan at all while waiting, and the partitions are asked once.
    expect(scans.getReceived() + scansNoFilter.getReceived()).toBe(0);
    expect(gets.getReceived()).toBeLessThanOrEqual(2 * laggingNaming.partitions);
    for (const sub of [scans, scansNoFilter, gets]) sub.unsubscribe();
  });
});

describe('issue 10, measured 7: metadata filters', () => {
  it('metadata.__proto__=x filters (it matches no token) instead of returning every token', async () => {
    const a = await create({ id: 'meta-a', metadata: { team: 'red' } });
    const b = await create({ id: 'meta-b', metadata: {} });
    const minSeq = Math.max(a.version, b.version);
    type Page = { items: Array<{ id: string }> };
    const all = await call<Page>('GET', `/v1/tokens?workflowId=document_review&minSeq=${minSeq}`);
    expect(all.body.items.map((t) => t.id)).toEqual(expect.arrayContaining(['meta-a', 'meta-b']));
    const proto = await call<Page>(
      'GET',
      `/v1/tokens?workflowId=document_review&metadata.__proto__=x&minSeq=${minSeq}`,
    );
    expect(proto.status).toBe(200);
    expect(proto.body.items).toEqual([]);
  });

  it('metadata.toString=… matches only tokens that have the key themselves', async () => {
    const own = await create({ id: 'meta-own', metadata: { toString: 'yes' } });
    const lacking = await create({ id: 'meta-lacking', metadata: { team: 'blue' } });
    const minSeq = Math.max(own.version, lacking.version);
    type Page = { items: Array<{ id: string }> };
    const inherited = String(Object.prototype.toString);
    for (const value of [inherited, 'yes']) {
      const res = await call<Page>(
        'GET',
        `/v1/tokens?workflowId=document_review&metadata.toString=${encodeURIComponent(value)}&minSeq=${minSeq}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.map((t) => t.id)).toEqual(value === 'yes' ? ['meta-own'] : []);
    }
    const ctor = await call<Page>(
      'GET',
      `/v1/tokens?metadata.constructor=${encodeURIComponent(String(Object))}&minSeq=${minSeq}`,
    );
    expect(ctor.body.items).toEqual([]);
  });
});

describe('issue 10, measured 8: errors that are not problem+json', () => {
  const SECRET = 'SECRET-in-the-url';

  it('bad URL encoding is 400 MALFORMED_REQUEST, without the URL', async () => {
    for (const path of [
      '/x/%ZZ',
      `/v1/workflows/%ZZ${SECRET}`,
      `/v1/workflows/document_review/tokens/%E0%A4%A`,
    ]) {
      const [res] = await rawExchange(port(), request('GET', path));
      expectRawProblem(res, 400, 'MALFORMED_REQUEST', [SECRET, '%ZZ', '%E0']);
    }
  });

  it('a URL over 8192 characters, or a path segment over 2048, is 414 URI_TOO_LONG, never echoed', async () => {
    const [longQuery] = await rawExchange(
      port(),
      request('GET', `/v1/tokens?metadata.a=${SECRET}${'x'.repeat(9000)}`),
    );
    expectRawProblem(longQuery, 414, 'URI_TOO_LONG', [SECRET, 'xxxxxxxxxx']);
    const [longSegment] = await rawExchange(
      port(),
      request('GET', `/v1/workflows/${SECRET}${'a'.repeat(3000)}`),
    );
    expectRawProblem(longSegment, 414, 'URI_TOO_LONG', [SECRET, 'aaaaaaaaaa']);
  });

  it('too many or too large headers (or a URL beyond them) are 431 HEADERS_TOO_LARGE', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => `x-h${i}: ${SECRET}`);
    for (const text of [
      request('GET', '/health', many),
      request('GET', '/health', [`x-big: ${SECRET}${'b'.repeat(20_000)}`]),
      request('GET', `/v1/workflows/${SECRET}${'c'.repeat(20_000)}`),
    ]) {
      const [res] = await rawExchange(port(), text);
      expectRawProblem(res, 431, 'HEADERS_TOO_LARGE', [SECRET]);
      expect(res!.headers.connection).toBe('close');
    }
  });

  it('a method HTTP does not define, or garbage, is 400 MALFORMED_REQUEST', async () => {
    for (const text of [request('FOO', `/health?${SECRET}`), `HELLO ${SECRET}\r\n\r\n`]) {
      const [res] = await rawExchange(port(), text);
      expectRawProblem(res, 400, 'MALFORMED_REQUEST', [SECRET]);
    }
  });

  it('a known path with the wrong method is 405 METHOD_NOT_ALLOWED with Allow; OPTIONS answers Allow', async () => {
    for (const [method, path, allow] of [
      ['DELETE', '/v1/workflows', 'GET, HEAD, OPTIONS, POST'],
      ['PUT', `${DR}/tokens/t-1/fire`, 'OPTIONS, POST'],
      ['POST', `${DR}/tokens/t-1`, 'DELETE, GET, HEAD, OPTIONS, PATCH'],
      ['PROPFIND', '/health', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const [res] = await rawExchange(port(), request(method, path));
      const body = expectRawProblem(res, 405, 'METHOD_NOT_ALLOWED');
      expect({ method, path, allow: res!.headers.allow }).toEqual({ method, path, allow });
      expect(body.allow).toEqual(allow.split(', '));
    }
    const [options] = await rawExchange(port(), request('OPTIONS', '/v1/workflows'));
    expect(options?.status).toBe(204);
    expect(options?.headers.allow).toBe('GET, HEAD, OPTIONS, POST');
    // A path with no route for any method is still 404.
    expectProblem(await call('DELETE', '/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await call('OPTIONS', '/v1/nothing-here'), 404, 'ROUTE_NOT_FOUND');
  });

  it('an Accept that excludes JSON (or text/event-stream on live events) is 406 NOT_ACCEPTABLE', async () => {
    const res = await call('GET', '/v1/workflows', undefined, { accept: 'text/html' });
    expectProblem(res, 406, 'NOT_ACCEPTABLE');
    expect(res.body.available).toEqual(['application/json']);
    for (const accept of ['application/json', 'text/html, */*;q=0.1', 'application/*']) {
      expect((await call('GET', '/v1/workflows', undefined, { accept })).status).toBe(200);
    }
    expectProblem(
      await call('GET', '/v1/workflows', undefined, { accept: 'application/json;q=0' }),
      406,
      'NOT_ACCEPTABLE',
    );
    const sse = await call('GET', `${DR}/events`, undefined, { accept: 'application/json' });
    expectProblem(sse, 406, 'NOT_ACCEPTABLE');
    expect(sse.body.available).toEqual(['text/event-stream']);
  });

  it('during shutdown a request gets 503 SERVICE_UNAVAILABLE problem+json with Retry-After', async () => {
    // A read that waits (no projection worker), holding its connection busy through SIGTERM.
    const token = await create({ id: 'shutdown-1' }, lagging.gatewayUrl);
    const conn = await RawConnection.open(Number(new URL(lagging.gatewayUrl).port));
    try {
      conn.write(
        `GET ${DR}/tokens/shutdown-1?minSeq=${token.version} HTTP/1.1\r\nHost: gateway\r\n` +
          `Authorization: ${laggingAuth.authorization}\r\n\r\n`,
      );
      await new Promise((r) => setTimeout(r, 300));
      lagging.gateway!.kill('SIGTERM');
      await lagging.gateway!.waitForLine(/requests that still arrive get 503/, 5000);
      conn.write(
        `GET /v1/workflows HTTP/1.1\r\nHost: gateway\r\nAuthorization: ${laggingAuth.authorization}\r\n\r\n`,
      );
      const [held, refused] = await conn.responses(2, LAG_WAIT_MS + 5000);
      // The request in flight finishes as it would have.
      expectRawProblem(held, 503, 'PROJECTION_LAGGING');
      const body = expectRawProblem(refused, 503, 'SERVICE_UNAVAILABLE');
      expect(body.detail).toMatch(/shutting down/);
      expect(refused!.headers['retry-after']).toBe('1');
      expect(refused!.headers.connection).toBe('close');
      expect(await conn.closedWithin(5000)).toBe(true);
    } finally {
      conn.close();
    }
    // Then it stops gracefully by itself.
    expect(await lagging.gateway!.waitExit(15_000)).toBe(true);
    expect(lagging.gateway!.exitCode).toBe(0);
  });
});
