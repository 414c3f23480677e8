import type { operations } from '@cb/client';
import { loadFixtureWorkflow } from '@cb/testing';
import { startE2eStack, type E2eStack, expectProblem } from './stack';

jest.setTimeout(180_000);

let stack: E2eStack;
const call: E2eStack['call'] = (...args) => stack.call(...args);

interface TokenBody {
  id: string;
  workflowId: string;
  place: string;
  version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
type SearchQuery = NonNullable<operations['searchTokens']['parameters']['query']>;
interface Page {
  items: TokenBody[];
  nextCursor?: string;
}

/** Run `fn` over `items` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const create: E2eStack['createToken'] = (...args) => stack.createToken(...args);

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn' },
    {
      projectionWorkers: 2,
      workflows: ['document-review', 'article-publishing', 'order-processing'],
    },
  );
});

afterAll(async () => {
  await stack?.stop();
});

describe('read-your-writes', () => {
  it('1,000 write-then-read iterations with minSeq = the write version: no stale read', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        create('document_review', { id: `ryw-${i}`, data: { n: 0 } }),
      ),
    );
    let stale = 0;
    let reads = 0;
    await pool(tokens, 8, async (token) => {
      for (let n = 1; n <= 125; n++) {
        const write = await call<TokenBody>(
          'PATCH',
          `/v1/workflows/document_review/tokens/${token.id}`,
          { data: { n } },
        );
        expect(write.status).toBe(200);
        const read = await call<TokenBody>(
          'GET',
          `/v1/workflows/document_review/tokens/${token.id}?minSeq=${write.body.version}`,
        );
        reads++;
        if (
          read.status !== 200 ||
          read.body.version < write.body.version ||
          read.body.data.n !== n
        ) {
          stale++;
        }
        expect(Number(read.headers.get('x-as-of-seq'))).toBeGreaterThanOrEqual(write.body.version);
      }
    });
    expect(reads).toBe(1000);
    expect(stale).toBe(0);
  });

  it('lists and stats wait for minSeq too', async () => {
    const token = await create('order_processing', { id: 'ryw-list' });
    const workflowId = 'order_processing';
    const minSeq = token.version;
    const list = await stack.client.GET('/v1/workflows/{workflowId}/tokens', {
      params: { path: { workflowId }, query: { place: token.place, minSeq, limit: 1000 } },
    });
    expect(list.response.status).toBe(200);
    expect(list.data?.items.map((t) => t.id)).toContain('ryw-list');
    const stats = await stack.client.GET('/v1/workflows/{workflowId}/stats', {
      params: { path: { workflowId }, query: { minSeq } },
    });
    expect(stats.response.status).toBe(200);
    expect(stats.data?.places[token.place]).toBeGreaterThanOrEqual(1);
    const byId = await stack.client.GET('/v1/tokens/{tokenId}', {
      params: { path: { tokenId: 'ryw-list' }, query: { minSeq } },
    });
    expect(byId.data).toMatchObject({ id: 'ryw-list', workflowId: 'order_processing' });
    expect(byId.response.headers.get('etag')).toBe(`"${token.version}"`);
  });

  it('a token read is the API token exactly: as the write returned it and as the stream has it', async () => {
    const token = await create('order_processing', {
      id: 'exact-1',
      data: { customer: 'Zoë', items: [{ sku: 'a', qty: 2 }], note: null },
      metadata: { team: 'blue', tier: 2 },
    });
    for (const path of [
      `/v1/tokens/exact-1?minSeq=${token.version}`,
      `/v1/workflows/order_processing/tokens/exact-1?minSeq=${token.version}`,
    ]) {
      const read = await call<TokenBody>('GET', path);
      expect(read.status).toBe(200);
      expect(read.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(read.headers.get('x-request-id')).toBeTruthy();
      expect(read.headers.get('etag')).toBe(`"${token.version}"`);
      expect(read.body).toEqual(token);
    }
    const strong = await call<TokenBody>(
      'GET',
      '/v1/workflows/order_processing/tokens/exact-1?consistency=strong',
    );
    expect(strong.body).toEqual(token);

    const deleted = await call('DELETE', '/v1/workflows/order_processing/tokens/exact-1');
    expect(deleted.status).toBe(204);
    const version = Number(JSON.parse(deleted.headers.get('etag') ?? '0'));
    expectProblem(
      await call('GET', `/v1/tokens/exact-1?minSeq=${version}`),
      404,
      'TOKEN_NOT_FOUND',
    );
    expectProblem(
      await call('GET', `/v1/workflows/order_processing/tokens/exact-1?minSeq=${version}`),
      404,
      'TOKEN_NOT_FOUND',
    );
  });

  it('a minSeq beyond the last event of the stream answers 400 MIN_SEQ_AHEAD at once (nothing could reach it)', async () => {
    const started = Date.now();
    const res = await call('GET', `/v1/tokens/ryw-list?minSeq=999999999`);
    expectProblem(res, 400, 'MIN_SEQ_AHEAD');
    expect(res.body).toMatchObject({ minSeq: 999999999, lastSeq: expect.any(Number) });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('cursor pagination', () => {
  it('2,500 tokens listed with limit=7 while others leave the place: each that stays exactly once', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => `page-${String(i).padStart(4, '0')}`);
    let last = 0;
    await pool(ids, 32, async (id) => {
      const t = await create('document_review', { id });
      last = Math.max(last, t.version);
    });
    const place = 'draft';
    // Every third token moves out of the place while the list is being paged.
    const movers = new Set(ids.filter((_, i) => i % 3 === 0));
    const seen = new Map<string, number>();
    let cursor: string | undefined;
    let pages = 0;
    const moving = (async () => {
      await pool([...movers], 4, async (id) => {
        const res = await call('POST', `/v1/workflows/document_review/tokens/${id}/fire`, {
          transition: 'submit',
        });
        expect(res.status).toBe(200);
      });
    })();
    do {
      const qs = `place=${place}&limit=7${cursor ? `&cursor=${cursor}` : `&minSeq=${last}`}`;
      const res = await call<Page>('GET', `/v1/workflows/document_review/tokens?${qs}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(7);
      for (const t of res.body.items) {
        expect(t.place).toBe(place);
        seen.set(t.id, (seen.get(t.id) ?? 0) + 1);
      }
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    await moving;

    expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
    const stayed = ids.filter((id) => !movers.has(id));
    expect(stayed.filter((id) => !seen.has(id))).toEqual([]);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(stayed.length / 7));
    // Nothing outside the 2,500 (e.g. ryw tokens are in other workflows or ids sort elsewhere).
    expect(
      [...seen.keys()].filter((id) => !id.startsWith('page-') && !id.startsWith('ryw-')),
    ).toEqual([]);
  });

  it('bad query parameters are 400 problem+json', async () => {
    const base = '/v1/workflows/document_review/tokens';
    for (const qs of [
      'limit=-1',
      'limit=0',
      'limit=1000000000',
      'limit=abc',
      'cursor=not-a-cursor',
      `cursor=${Buffer.from('{"l":"other","a":"x"}').toString('base64url')}`,
      'minSeq=abc',
      'minSeq=-5',
      'place=no.such',
      'place=nowhere',
      'unknown=1',
    ]) {
      const res = await call('GET', `${base}?${qs}`);
      expectProblem(res, 400, 'VALIDATION_ERROR');
    }
    expectProblem(await call('GET', '/v1/tokens?limit=1000000000'), 400, 'VALIDATION_ERROR');
    expectProblem(await call('GET', '/v1/tokens/x?minSeq=1.5'), 400, 'VALIDATION_ERROR');
    expectProblem(await call('GET', '/v1/workflows?cursor=%%%'), 400, 'VALIDATION_ERROR');
    expectProblem(
      await call('GET', '/v1/workflows/document_review/stats?from=yesterday'),
      400,
      'VALIDATION_ERROR',
    );
    expectProblem(await call('GET', '/v1/workflows/nope/tokens'), 404, 'WORKFLOW_NOT_FOUND');
    expectProblem(await call('GET', '/v1/workflows/nope/stats'), 404, 'WORKFLOW_NOT_FOUND');
    expectProblem(await call('GET', '/v1/tokens/nope'), 404, 'TOKEN_NOT_FOUND');
  });
});

describe('definitions, stats, history, transitions, search', () => {
  it('lists workflows with pages and reads a version', async () => {
    const path = { workflowId: 'order_processing' };
    const put = await stack.client.PUT('/v1/workflows/{workflowId}', {
      params: { path },
      body: { ...loadFixtureWorkflow('order-processing'), description: 'v2' },
    });
    expect(put.response.status).toBe(200);
    const version = put.data!.version;
    const first = await stack.client.GET('/v1/workflows', {
      params: { query: { limit: 2, minSeq: put.data!.seq } },
    });
    expect(first.data?.items.map((w) => w.id)).toEqual(['article_publishing', 'document_review']);
    const second = await stack.client.GET('/v1/workflows', {
      params: { query: { limit: 2, cursor: first.data?.nextCursor } },
    });
    expect(second.data?.items.map((w) => [w.id, w.version])).toEqual([
      ['order_processing', version],
    ]);
    expect(second.data?.nextCursor).toBeUndefined();
    const read = (v: number) =>
      stack.client.GET('/v1/workflows/{workflowId}', {
        params: { path, query: { version: v } },
      });
    expect((await read(1)).data).toMatchObject({ id: 'order_processing', version: 1 });
    expectProblem(await read(99), 404, 'WORKFLOW_NOT_FOUND');
  });

  it('stats count tokens per place, transitions and the created window', async () => {
    const a = await create('article_publishing', {
      id: 'stats-a',
      data: { title: 'T', content: 'C', word_count: 150 },
    });
    await create('article_publishing', {
      id: 'stats-b',
      data: { title: 'T', content: 'C', word_count: 150 },
    });
    const fired = await call<TokenBody>(
      'POST',
      '/v1/workflows/article_publishing/tokens/stats-a/fire',
      {
        transition: 'submit',
      },
    );
    expect(fired.status).toBe(200);
    const stats = await call<{
      totalTokens: number;
      places: Record<string, number>;
      transitionsFired: number;
      created: number;
      averageTimeInPlaceMs: Record<string, number>;
      window: { created: number };
    }>('GET', `/v1/workflows/article_publishing/stats?minSeq=${fired.body.version}`);
    expect(stats.status).toBe(200);
    expect(stats.body.totalTokens).toBe(2);
    expect(stats.body.places[a.place]).toBe(1);
    expect(stats.body.places[fired.body.place]).toBe(1);
    expect(stats.body.transitionsFired).toBe(1);
    expect(stats.body.created).toBe(2);
    expect(stats.body.window.created).toBe(2);
    expect(stats.body.averageTimeInPlaceMs[a.place]).toBeGreaterThanOrEqual(0);
    const past = await call<{ window: { created: number } }>(
      'GET',
      '/v1/workflows/article_publishing/stats?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z',
    );
    expect(past.body.window.created).toBe(0);
  });

  it('history lists every event in order, also after deletion; transitions say why not', async () => {
    const t = await create('article_publishing', {
      id: 'hist-1',
      data: { title: 'T', content: 'C', word_count: 50 },
    });
    const blocked = await call<{
      items: Array<{ id: string; enabled: boolean; reasons: Array<{ code: string }> }>;
    }>('GET', `/v1/workflows/article_publishing/tokens/hist-1/transitions?minSeq=${t.version}`);
    expect(blocked.status).toBe(200);
    const submit = blocked.body.items.find((x) => x.id === 'submit');
    expect(submit).toMatchObject({ enabled: false });
    expect(submit?.reasons.map((r) => r.code)).toContain('GUARD_FAILED');
    expect(blocked.body.items.filter((x) => !x.enabled).every((x) => x.reasons.length > 0)).toBe(
      true,
    );
    await call('PATCH', '/v1/workflows/article_publishing/tokens/hist-1', {
      data: { title: 'T', content: 'C', word_count: 150 },
    });
    const open = await call<{ items: Array<{ id: string; enabled: boolean }> }>(
      'GET',
      '/v1/workflows/article_publishing/tokens/hist-1/transitions?consistency=strong',
    );
    expect(open.body.items.find((x) => x.id === 'submit')?.enabled).toBe(true);
    await call('POST', '/v1/workflows/article_publishing/tokens/hist-1/fire', {
      transition: 'submit',
    });
    expect((await call('DELETE', '/v1/workflows/article_publishing/tokens/hist-1')).status).toBe(
      204,
    );
    const history = await call<{ items: Array<{ seq: number; event: { type: string } }> }>(
      'GET',
      '/v1/workflows/article_publishing/tokens/hist-1/history',
    );
    expect(history.body.items.map((e) => e.event.type)).toEqual([
      'token.created.v1',
      'token.updated.v1',
      'token.transitioned.v1',
      'token.deleted.v1',
    ]);
    const seqs = history.body.items.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    const paged = await call<{ items: unknown[]; nextCursor?: string }>(
      'GET',
      '/v1/workflows/article_publishing/tokens/hist-1/history?limit=3',
    );
    expect(paged.body.items).toHaveLength(3);
    const rest = await call<{ items: Array<{ seq: number }>; nextCursor?: string }>(
      'GET',
      `/v1/workflows/article_publishing/tokens/hist-1/history?limit=3&cursor=${paged.body.nextCursor}`,
    );
    expect(rest.body.items.map((e) => e.seq)).toEqual([seqs[3]]);
    expectProblem(
      await call('GET', '/v1/workflows/document_review/tokens/hist-1/history'),
      404,
      'TOKEN_NOT_FOUND',
    );
  });

  it('searches across workflows by place and metadata', async () => {
    await create('document_review', { id: 'srch-1', metadata: { team: 'blue', tier: 1 } });
    await create('order_processing', { id: 'srch-2', metadata: { team: 'blue' } });
    const last = await create('order_processing', { id: 'srch-3', metadata: { team: 'red' } });
    // Through the generated client: the metadata filter as the document declares it is the
    // wire's `metadata.<key>=<value>`. No workflow declares `team`: pages are checked token by
    // token, a bounded number each, so the matches may take several pages.
    const search = async (query: SearchQuery): Promise<string[]> => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await stack.client.GET('/v1/tokens', {
          params: { query: { ...query, ...(cursor ? { cursor } : {}) } },
        });
        expect(page.response.status).toBe(200);
        ids.push(...page.data!.items.map((t) => t.id));
        cursor = page.data!.nextCursor;
      } while (cursor);
      return ids;
    };
    const blue = await search({ metadata: { 'metadata.team': 'blue' }, minSeq: last.version });
    expect(blue).toEqual(['srch-1', 'srch-2']);
    const tier = await search({ metadata: { 'metadata.team': 'blue', 'metadata.tier': '1' } });
    expect(tier).toEqual(['srch-1']);
    const scoped = await search({
      workflowId: 'order_processing',
      metadata: { 'metadata.team': 'blue' },
    });
    expect(scoped).toEqual(['srch-2']);
    // The same as the raw query string.
    const raw = await call<Page>('GET', '/v1/tokens?workflowId=order_processing&metadata.team=red');
    expect(raw.body.items.map((t) => t.id)).toEqual(['srch-3']);
  });

  it('a filter on a declared search attribute pages through its index; any other is bounded per page', async () => {
    // A workflow that declares two search attributes.
    const definition = {
      ...(loadFixtureWorkflow('document-review') as Record<string, unknown>),
      id: 'attr_review',
      searchAttributes: ['metadata.region', 'data.customer'],
    };
    expect((await call('POST', '/v1/workflows', definition)).status).toBe(201);
    const ids = Array.from({ length: 60 }, (_, i) => `attr-${String(i).padStart(2, '0')}`);
    await pool(ids, 16, async (id) => {
      const i = Number(id.slice(5));
      await create('attr_review', {
        id,
        metadata: { region: i % 3 === 0 ? 'eu' : 'us' },
        data: { customer: `c${i % 5}`, title: 't' },
      });
    });
    // attr-00 moves region, attr-03 is deleted, attr-06 leaves draft: every index follows.
    const patched = await call<TokenBody>('PATCH', '/v1/workflows/attr_review/tokens/attr-00', {
      metadata: { region: 'us' },
    });
    expect(patched.status).toBe(200);
    expect((await call('DELETE', '/v1/workflows/attr_review/tokens/attr-03')).status).toBe(204);
    const moved = await call<TokenBody>('POST', '/v1/workflows/attr_review/tokens/attr-06/fire', {
      transition: 'submit',
    });
    expect(moved.status).toBe(200);
    const minSeq = moved.body.version;

    const all = async (qs: string): Promise<{ ids: string[]; pages: number }> => {
      const out: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await call<Page>(
          'GET',
          `/v1/tokens?${qs}&limit=4&minSeq=${minSeq}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        out.push(...res.body.items.map((t) => t.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      return { ids: out, pages };
    };
    const eu = ids.filter((id, i) => i % 3 === 0 && id !== 'attr-00' && id !== 'attr-03');
    expect((await all('metadata.region=eu')).ids).toEqual(eu);
    expect((await all('metadata.region=us&workflowId=attr_review')).ids).toEqual(
      ids.filter((id, i) => i % 3 !== 0 || id === 'attr-00'),
    );
    const c1InDraft = ids.filter((id, i) => i % 5 === 1 && id !== 'attr-06');
    expect((await all('workflowId=attr_review&place=draft&data.customer=c1')).ids).toEqual(
      c1InDraft,
    );
    const c1Submitted = await all('workflowId=attr_review&place=pending_review&data.customer=c1');
    expect(c1Submitted.ids).toEqual(['attr-06']);
    expect((await all('data.customer=c0&metadata.region=eu')).ids).toEqual(
      eu.filter((id) => Number(id.slice(5)) % 5 === 0),
    );

    // The declared attribute is read from its index, not checked token by token: with 2,100 more
    // tokens of another region in the workflow (more than a page may examine), one page holds
    // every match and says the list ends there.
    const others = Array.from({ length: 2100 }, (_, i) => `attr-x${String(i).padStart(4, '0')}`);
    let lastOther = 0;
    await pool(others, 32, async (id) => {
      const t = await create('attr_review', { id, metadata: { region: 'ap' }, data: {} });
      lastOther = Math.max(lastOther, t.version);
    });
    const one = await call<Page>(
      'GET',
      `/v1/tokens?workflowId=attr_review&metadata.region=eu&limit=50&minSeq=${lastOther}`,
    );
    expect(one.body.items.map((t) => t.id)).toEqual(eu);
    expect(one.body.nextCursor).toBeUndefined();

    // A field the workflow does not declare is checked token by token, a bounded number per page:
    // its 2,160 tokens take more than one page to find that none matches.
    const undeclared = await all('workflowId=attr_review&metadata.nothing=here');
    expect(undeclared.ids).toEqual([]);
    expect(undeclared.pages).toBeGreaterThan(1);
  });
});
