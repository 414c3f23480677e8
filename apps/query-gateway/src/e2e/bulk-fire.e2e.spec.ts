import { startE2eStack, type ApiResponse, type E2eStack, expectProblem } from './stack';

jest.setTimeout(120_000);

let stack: E2eStack;
const call: E2eStack['call'] = (...args) => stack.call(...args);

interface TokenBody {
  id: string;
  place: string;
  version: number;
  definitionVersion: number;
}

interface BulkResult {
  [member: string]: unknown;
  matched: number;
  succeeded: number;
  failed: number;
  replayed: number;
  succeededIds: string[];
  errors: Array<{ tokenId: string; code: string; message: string }>;
  version?: number;
  truncated: boolean;
  nextCursor?: string;
}

const AP = 'article_publishing';

const createToken: E2eStack['createToken'] = (...args) => stack.createToken(...args);

/** Every message in the event stream: a request that writes nothing leaves it unchanged. */
async function streamMessages(): Promise<number> {
  return (await stack.jsm.streams.info(stack.naming.stream)).state.messages;
}

async function bulk(
  workflowId: string,
  body: unknown,
  headers?: Record<string, string>,
  query = '',
): Promise<ApiResponse<BulkResult>> {
  return call<BulkResult>('POST', `/v1/workflows/${workflowId}/bulk-fire${query}`, body, headers);
}

async function listIds(workflowId: string, place: string, minSeq: number): Promise<string[]> {
  const { data, response } = await stack.client.GET('/v1/workflows/{workflowId}/tokens', {
    params: { path: { workflowId }, query: { place, limit: 1000, minSeq } },
  });
  expect(response.status).toBe(200);
  expect(data?.nextCursor).toBeUndefined();
  return data!.items.map((t) => t.id);
}

const range = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);

const article = (words: number, lang: string) => ({
  title: 'T',
  content: 'C',
  word_count: words,
  lang,
});

beforeAll(async () => {
  stack = await startE2eStack(
    {},
    { projectionWorkers: 1, workflows: ['article-publishing', 'document-review'] },
  );
});

afterAll(async () => {
  await stack?.stop();
});

describe('POST /v1/workflows/:workflowId/bulk-fire/preview', () => {
  const DR = 'document_review';
  const preview = (body: unknown, query = '') =>
    call<{ matched: number; capped: boolean }>(
      'POST',
      `/v1/workflows/${DR}/bulk-fire/preview${query}`,
      body,
    );

  it('counts the tokens a bulk fire would try, and fires none', async () => {
    let last = 0;
    for (const [id, batch] of [
      ['pv-1', 'p1'],
      ['pv-2', 'p1'],
      ['pv-3', 'p1'],
      ['pv-4', 'p2'],
      ['pv-5', 1],
    ] as const) {
      last = Math.max(last, (await createToken(DR, { id, data: {}, metadata: { batch } })).version);
    }
    const before = await streamMessages();
    const q = `?minSeq=${last}`;
    const p1 = await preview({ transition: 'submit', filter: { metadata: { batch: 'p1' } } }, q);
    expect(p1.status).toBe(200);
    expect(p1.body).toEqual({ matched: 3, capped: false });
    // Typed like the bulk fire: the number 1 is not the text "1".
    expect(
      (await preview({ transition: 'submit', filter: { metadata: { batch: '1' } } }, q)).body,
    ).toEqual({ matched: 0, capped: false });
    expect((await preview({ transition: 'submit', place: 'draft' }, q)).body).toEqual({
      matched: 5,
      capped: false,
    });
    // Nothing in pending_review yet: `review` would fire none.
    expect((await preview({ transition: 'review' }, q)).body.matched).toBe(0);
    expect(await streamMessages()).toBe(before);
    expect(await listIds(DR, 'draft', last)).toEqual(['pv-1', 'pv-2', 'pv-3', 'pv-4', 'pv-5']);

    // The same answer as the fire that follows it.
    const fired = await bulk(DR, { transition: 'submit', filter: { metadata: { batch: 'p1' } } });
    expect(fired.body).toMatchObject({ matched: 3, succeeded: 3 });
  });

  it('checks the body, workflow, place and transition like the bulk fire', async () => {
    expectProblem(
      await call('POST', '/v1/workflows/nope/bulk-fire/preview', { transition: 'submit' }),
      404,
      'WORKFLOW_NOT_FOUND',
    );
    expectProblem(
      await preview({ transition: 'submit', place: 'nowhere' }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(await preview({ transition: 'teleport' }), 422, 'TRANSITION_NOT_ENABLED');
    expectProblem(
      await preview({ transition: 'submit', place: 'approved' }),
      422,
      'TRANSITION_NOT_ENABLED',
    );
    for (const body of [
      {},
      { transition: 'submit', limit: 5 },
      { transition: 'submit', filter: { data: { a: [1] } } },
      [],
    ]) {
      expectProblem(await preview(body), 400, 'VALIDATION_ERROR');
    }
  });
});

describe('POST /v1/workflows/:workflowId/bulk-fire', () => {
  // 60 tokens in draft; the filter keeps batch b1, priority 1 (a number), lang en.
  const fires = range(20, 'bf-ok'); // match, guard passes
  const guarded = range(10, 'bf-short'); // match, word_count too low for the guard
  const otherLang = range(10, 'bf-de'); // data.lang differs
  const otherBatch = range(10, 'bf-b2'); // metadata.batch differs
  const textPriority = range(10, 'bf-txt'); // metadata.priority is "1", not 1
  const filter = { metadata: { batch: 'b1', priority: 1 }, data: { lang: 'en' } };
  const key = 'bulk-submit-0001';
  let first: BulkResult;

  it('fires every matching token, lists per-token failures with their code', async () => {
    let last = 0;
    const make = async (
      ids: string[],
      data: Record<string, unknown>,
      metadata: Record<string, unknown>,
    ) => {
      for (const id of ids)
        last = Math.max(last, (await createToken(AP, { id, data, metadata })).version);
    };
    await make(fires, article(200, 'en'), { batch: 'b1', priority: 1 });
    await make(guarded, article(50, 'en'), { batch: 'b1', priority: 1 });
    await make(otherLang, article(200, 'de'), { batch: 'b1', priority: 1 });
    await make(otherBatch, article(200, 'en'), { batch: 'b2', priority: 1 });
    await make(textPriority, article(200, 'en'), { batch: 'b1', priority: '1' });
    expect((await listIds(AP, 'draft', last)).length).toBe(60);

    const before = await streamMessages();
    const res = await stack.client.POST('/v1/workflows/{workflowId}/bulk-fire', {
      params: { path: { workflowId: AP }, header: { 'idempotency-key': key } },
      body: { transition: 'submit', filter, triggeredBy: 'bulk-test' },
    });
    expect(res.response.status).toBe(200);
    first = res.data!;
    expect(first).toMatchObject({
      matched: 30,
      succeeded: 20,
      failed: 10,
      replayed: 0,
      truncated: false,
      succeededIds: fires,
    });
    expect(first.nextCursor).toBeUndefined();
    expect(first.errors.map((e) => e.tokenId)).toEqual(guarded);
    for (const e of first.errors) {
      expect(e.code).toBe('GUARD_FAILED');
      expect(e.message).toMatch(/submit/);
    }
    expect(await streamMessages()).toBe(before + 20);
    expect(await stack.countOn(stack.naming.tokenSubject('default', AP, fires[0]!))).toBe(2);
    expect(await stack.countOn(stack.naming.tokenSubject('default', AP, guarded[0]!))).toBe(1);

    // The fired tokens are in review; nothing else moved.
    expect(await listIds(AP, 'review', first.version!)).toEqual(fires);
    expect((await listIds(AP, 'draft', first.version!)).sort()).toEqual(
      [...guarded, ...otherLang, ...otherBatch, ...textPriority].sort(),
    );
    const token = await call<{ lastTransition: { triggeredBy?: string } }>(
      'GET',
      `/v1/workflows/${AP}/tokens/${fires[0]}`,
    );
    expect(token.body.lastTransition.triggeredBy).toBe('bulk-test');
  });

  it('a repeat with the same Idempotency-Key writes nothing and answers the same outcome', async () => {
    const before = await streamMessages();
    const again = await bulk(
      AP,
      { transition: 'submit', filter, triggeredBy: 'bulk-test' },
      { 'idempotency-key': key },
    );
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      matched: 30,
      succeeded: 20,
      failed: 10,
      replayed: 20,
      truncated: false,
      succeededIds: first.succeededIds,
      version: first.version,
    });
    expect(again.body.errors.map((e) => [e.tokenId, e.code])).toEqual(
      first.errors.map((e) => [e.tokenId, e.code]),
    );
    expect(await streamMessages()).toBe(before);

    // The same key with a different request: the tokens it fired say so, nothing is written.
    const reused = await bulk(
      AP,
      { transition: 'submit', filter, triggeredBy: 'someone-else' },
      { 'idempotency-key': key },
    );
    expect(reused.status).toBe(200);
    expect(reused.body).toMatchObject({ matched: 30, succeeded: 0, failed: 30 });
    const codes = new Map(reused.body.errors.map((e) => [e.tokenId, e.code]));
    for (const id of fires) expect(codes.get(id)).toBe('IDEMPOTENCY_KEY_REUSED');
    for (const id of guarded) expect(codes.get(id)).toBe('GUARD_FAILED');

    // Without a key a repeat finds only the tokens still in draft.
    const plain = await bulk(AP, { transition: 'submit', filter });
    expect(plain.status).toBe(200);
    expect(plain.body).toMatchObject({ matched: 10, succeeded: 0, failed: 10, replayed: 0 });
    expect(await streamMessages()).toBe(before);
  });

  it('an explicit place that the transition fires from, and an empty result', async () => {
    const res = await bulk(AP, {
      transition: 'submit',
      place: 'draft',
      filter: { metadata: { batch: 'nobody' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      matched: 0,
      succeeded: 0,
      failed: 0,
      replayed: 0,
      succeededIds: [],
      errors: [],
      truncated: false,
    });
  });

  it('processes at most `limit` tokens per request and continues with the cursor', async () => {
    const ids = range(25, 'bf-page');
    let last = 0;
    for (const id of ids) {
      last = (await createToken('document_review', { id, metadata: { wave: 3 } })).version;
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await bulk(
        'document_review',
        {
          transition: 'submit',
          filter: { metadata: { wave: 3 } },
          limit: 10,
          ...(cursor ? { cursor } : {}),
        },
        { 'idempotency-key': 'pages-1' },
        i === 0 ? `?minSeq=${last}` : '',
      );
      expect(res.status).toBe(200);
      expect(res.body.failed).toBe(0);
      sizes.push(res.body.succeeded);
      seen.push(...res.body.succeededIds);
      expect(res.body.truncated).toBe(res.body.nextCursor !== undefined);
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual(ids);

    // A cursor belongs to its workflow and transition.
    const foreign = await bulk('document_review', {
      transition: 'review',
      cursor: Buffer.from(
        JSON.stringify({ l: 'bulk-fire:document_review:submit', a: 'x' }),
      ).toString('base64url'),
    });
    expectProblem(foreign, 400, 'VALIDATION_ERROR');
  });

  it('tokens fire against their pinned definition version; the wrong place is a per-token error', async () => {
    const v1 = {
      id: 'bulk_versions',
      name: 'bulk versions',
      places: ['a', 'b', 'done'],
      initialPlace: 'a',
      finalPlaces: ['done'],
      transitions: [
        { id: 'go', from: ['a'], to: 'done' },
        { id: 'move', from: ['a'], to: 'b' },
      ],
    };
    expect((await call('POST', '/v1/workflows', v1)).status).toBe(201);
    for (const id of ['v1-a1', 'v1-a2', 'v1-b1']) await createToken('bulk_versions', { id });
    const moved = await call<TokenBody>('POST', '/v1/workflows/bulk_versions/tokens/v1-b1/fire', {
      transition: 'move',
    });
    expect(moved.status).toBe(200);
    const v2 = await call(
      'PUT',
      '/v1/workflows/bulk_versions',
      {
        ...v1,
        id: undefined,
        transitions: [{ id: 'go', from: ['b'], to: 'done' }, v1.transitions[1]],
      },
      { 'if-match': '"1"' },
    );
    expect(v2.status).toBe(200);
    await createToken('bulk_versions', { id: 'v2-a1' });
    await createToken('bulk_versions', { id: 'v2-b1' });
    const last = await call<TokenBody>('POST', '/v1/workflows/bulk_versions/tokens/v2-b1/fire', {
      transition: 'move',
    });
    expect(last.body.definitionVersion).toBe(2);

    // Default places: every `from` place of `go` in any version (a and b).
    const res = await bulk(
      'bulk_versions',
      { transition: 'go' },
      {},
      `?minSeq=${last.body.version}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      matched: 5,
      succeeded: 3,
      failed: 2,
      succeededIds: ['v1-a1', 'v1-a2', 'v2-b1'],
    });
    expect(res.body.errors.map((e) => [e.tokenId, e.code])).toEqual([
      ['v1-b1', 'TRANSITION_NOT_ENABLED'],
      ['v2-a1', 'TRANSITION_NOT_ENABLED'],
    ]);
  });

  it('many `from` places are listed with one workflow-wide scan', async () => {
    const places = Array.from({ length: 10 }, (_, i) => `p${i}`);
    const def = {
      id: 'bulk_wide',
      name: 'bulk wide',
      places: [...places, 'closed'],
      initialPlace: 'p0',
      finalPlaces: ['closed'],
      transitions: [{ id: 'close', from: places, to: 'closed' }],
    };
    expect((await call('POST', '/v1/workflows', def)).status).toBe(201);
    const ids: string[] = [];
    let last = 0;
    for (const [i, place] of places.entries()) {
      for (const n of [0, 1]) {
        const id = `wide-${i}-${n}`;
        ids.push(id);
        last = (await createToken('bulk_wide', { id, place, metadata: { keep: n === 0 } })).version;
      }
    }
    last = (await createToken('bulk_wide', { id: 'wide-closed', place: 'closed' })).version;
    const keep = ids.filter((id) => id.endsWith('-0'));

    const before = await streamMessages();
    const res = await bulk(
      'bulk_wide',
      { transition: 'close', filter: { metadata: { keep: true } } },
      { 'idempotency-key': 'wide-1' },
      `?minSeq=${last}`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ matched: 10, succeeded: 10, failed: 0, succeededIds: keep });
    expect(await streamMessages()).toBe(before + 10);

    const again = await bulk(
      'bulk_wide',
      { transition: 'close', filter: { metadata: { keep: true } } },
      { 'idempotency-key': 'wide-1' },
      `?minSeq=${res.body.version}`,
    );
    expect(again.body).toMatchObject({
      matched: 10,
      succeeded: 10,
      replayed: 10,
      succeededIds: keep,
    });
    expect(await streamMessages()).toBe(before + 10);
  });

  it('checks the workflow, place and transition before firing anything', async () => {
    const before = await streamMessages();
    expectProblem(await bulk('no_such_wf', { transition: 'submit' }), 404, 'WORKFLOW_NOT_FOUND');
    const undeclared = await bulk(AP, { transition: 'submit', place: 'nowhere' });
    expectProblem(undeclared, 400, 'VALIDATION_ERROR');
    expect(undeclared.body.errors).toEqual([
      { path: 'body/place', message: 'is not a place of the workflow' },
    ]);
    const unknown = await bulk(AP, { transition: 'teleport' });
    expectProblem(unknown, 422, 'TRANSITION_NOT_ENABLED');
    expect(unknown.body.transitions).toEqual(['submit', 'approve', 'reject', 'revise', 'publish']);
    const wrongPlace = await bulk(AP, { transition: 'submit', place: 'review' });
    expectProblem(wrongPlace, 422, 'TRANSITION_NOT_ENABLED');
    expect(wrongPlace.body).toMatchObject({ place: 'review', from: ['draft'] });
    expect(await streamMessages()).toBe(before);
  });

  it('refuses bad bodies and headers with 400 problem+json', async () => {
    const before = await streamMessages();
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]));
    const bodies: unknown[] = [
      {},
      { transition: 'submit', extra: 1 },
      { transition: 'bad.id' },
      { transition: 5 },
      { transition: 'submit', place: '*' },
      { transition: 'submit', filter: { tags: { a: 1 } } },
      { transition: 'submit', filter: { metadata: { a: { nested: 1 } } } },
      { transition: 'submit', filter: { metadata: { a: null } } },
      { transition: 'submit', filter: { data: { a: [1] } } },
      { transition: 'submit', filter: { data: tooMany } },
      { transition: 'submit', filter: { data: { ['x'.repeat(129)]: 1 } } },
      { transition: 'submit', limit: 0 },
      { transition: 'submit', limit: 10_001 },
      { transition: 'submit', limit: '5' },
      { transition: 'submit', triggeredBy: '' },
      { transition: 'submit', cursor: 'not-a-cursor' },
      'not json',
      [],
    ];
    for (const body of bodies) {
      const res = await bulk(AP, body);
      expectProblem(res, 400, 'VALIDATION_ERROR');
    }
    expectProblem(
      await bulk(AP, { transition: 'submit' }, { 'if-match': '"3"' }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await bulk(AP, { transition: 'submit' }, { 'idempotency-key': 'has space' }),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await bulk(AP, { transition: 'submit' }, {}, '?minSeq=-1'),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(
      await bulk(AP, 'transition=submit', { 'content-type': 'text/plain' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectProblem(
      await bulk(AP, { transition: 'submit', filter: { data: { k: 'x'.repeat(300_000) } } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expect(await streamMessages()).toBe(before);
  });

  // Last: it stops the command service.
  it('with no command service, nothing fires and the request answers 503 (safe to retry)', async () => {
    await stack.command.stop();
    const res = await bulk(AP, { transition: 'submit', filter }, { 'idempotency-key': 'down-1' });
    expectProblem(res, 503, 'COMMAND_SERVICE_UNAVAILABLE');
    expect(res.headers.get('retry-after')).toBe('1');
  });
});
