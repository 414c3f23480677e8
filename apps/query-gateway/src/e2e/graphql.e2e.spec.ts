import { startE2eStack, type E2eStack } from './stack';

/**
 * Issue 17: `/graphql` against the stack as processes, with plain HTTP — the original's
 * operations answer what the REST routes answer, errors carry our codes, tenants and scopes hold
 * as in REST, the limits refuse what they must, and GraphiQL is served from the gateway itself.
 */
jest.setTimeout(180_000);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface GqlAnswer {
  status: number;
  body: { data?: Json | null; errors?: Json[] };
}

let stack: E2eStack;

async function gql(
  query: string,
  variables?: Json,
  as: string | null = stack.authorization,
): Promise<GqlAnswer> {
  const authorization = as ?? undefined;
  const res = await fetch(`${stack.baseUrl}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(authorization !== undefined ? { authorization } : {}),
    },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return { status: res.status, body: (await res.json()) as GqlAnswer['body'] };
}

const codes = (a: GqlAnswer): string[] =>
  (a.body.errors ?? []).map((e) => String(e.extensions?.code));

async function createKey(body: Json): Promise<string> {
  const res = await stack.call<{ key: string }>('POST', '/v1/admin/keys', body);
  if (res.status !== 201) throw new Error(`key: ${res.status} ${JSON.stringify(res.body)}`);
  return `Bearer ${res.body.key}`;
}

const TOKEN_FIELDS = `id workflowId place data metadata createdAt updatedAt version definitionVersion
  natsSequence natsTimestamp natsSubject
  transitionHistory { fromPlace toPlace transitionId timestamp triggeredBy natsSequence metadata }`;

const GUARDED = {
  id: 'gql_guarded',
  name: 'Guarded',
  places: ['open', 'done'],
  initialPlace: 'open',
  finalPlaces: ['done'],
  transitions: [
    {
      id: 'finish',
      fromPlaces: ['open'],
      toPlace: 'done',
      guard: {
        type: 'object',
        properties: {
          data: { type: 'object', required: ['ok'], properties: { ok: { const: true } } },
        },
      },
    },
  ],
};

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn' },
    { projectionWorkers: 1, workflows: ['document-review'] },
  );
});

afterAll(async () => {
  await stack?.stop();
});

describe("the original's operations give what REST gives", () => {
  it('createWorkflowInstance, transitionTokenWithNats, tokensInPlace, natsToken with transitionHistory', async () => {
    const created = await gql(
      `mutation($in: CreateWorkflowInstanceInput!) { createWorkflowInstance(input: $in) { ${TOKEN_FIELDS} } }`,
      {
        in: {
          workflowId: 'document_review',
          initialData: { title: 'RFC' },
          metadata: { team: 'core' },
          triggeredBy: 'alice',
        },
      },
    );
    expect(created.body.errors).toBeUndefined();
    const token = created.body.data!.createWorkflowInstance;
    expect(token).toMatchObject({
      workflowId: 'document_review',
      place: 'draft',
      data: { title: 'RFC' },
    });
    expect(token.natsSequence).toBe(token.version);
    expect(token.natsSubject).toBe(
      stack.naming.tokenSubject('default', 'document_review', token.id),
    );

    const moved = await gql(
      `mutation($in: TransitionTokenWithNATSInput!) { transitionTokenWithNats(input: $in) { ${TOKEN_FIELDS} } }`,
      {
        in: {
          tokenId: token.id,
          transitionId: 'submit',
          newPlace: 'pending_review',
          triggeredBy: 'bob',
        },
      },
    );
    expect(moved.body.errors).toBeUndefined();
    const after = moved.body.data!.transitionTokenWithNats;
    expect(after.place).toBe('pending_review');

    const rest = await stack.call<Json>(
      'GET',
      `/v1/workflows/document_review/tokens/${token.id}?minSeq=${after.version}`,
    );
    expect(rest.status).toBe(200);

    const read = await gql(
      `query($id: String!, $seq: Int) { natsToken(id: $id, minSeq: $seq) { ${TOKEN_FIELDS} history { transition fromPlace toPlace } } }`,
      { id: token.id, seq: after.version },
    );
    expect(read.body.errors).toBeUndefined();
    const nats = read.body.data!.natsToken;
    for (const k of [
      'id',
      'workflowId',
      'place',
      'data',
      'metadata',
      'createdAt',
      'updatedAt',
      'version',
      'definitionVersion',
    ]) {
      expect(nats[k]).toEqual(rest.body[k]);
    }
    const history = await stack.call<{ items: Json[] }>(
      'GET',
      `/v1/workflows/document_review/tokens/${token.id}/history`,
    );
    const transitioned = history.body.items.filter((i) => i.event.type === 'token.transitioned.v1');
    expect(nats.transitionHistory).toEqual(
      transitioned.map((i) => ({
        fromPlace: i.event.from,
        toPlace: i.event.to,
        transitionId: i.event.transition,
        timestamp: i.event.occurredAt,
        triggeredBy: 'bob',
        natsSequence: i.seq,
        metadata: { team: 'core' },
      })),
    );
    expect(nats.history.map((h: Json) => h.transition)).toEqual([null, 'submit']);

    const inPlace = await gql(
      `query($seq: Int) { tokensInPlace(workflowId: "document_review", placeId: "pending_review", minSeq: $seq) { id place version } }`,
      { seq: after.version },
    );
    const restList = await stack.call<{ items: Json[] }>(
      'GET',
      `/v1/workflows/document_review/tokens?place=pending_review&minSeq=${after.version}`,
    );
    expect(inPlace.body.data!.tokensInPlace).toEqual(
      restList.body.items.map((t) => ({ id: t.id, place: t.place, version: t.version })),
    );
    expect(inPlace.body.data!.tokensInPlace.map((t: Json) => t.id)).toContain(token.id);
  });

  it('workflows, workflow, findToken, availableTransitions, workflowAnalytics and nested workflow fields', async () => {
    const token = await stack.createToken('document_review', { data: { n: 1 } });
    const a = await gql(
      `query($id: String!, $seq: Int) {
        workflows { id name places initialPlace transitions { id name fromPlaces toPlace conditions } }
        workflow(id: "document_review") { id version definitionVersion finalPlaces }
        findToken(workflowId: "document_review", tokenId: $id, minSeq: $seq) { id place workflow { id } }
        availableTransitions(tokenId: $id, minSeq: $seq) { id enabled reasons { code } }
        workflowAnalytics(workflowId: "document_review", minSeq: $seq) { totalTokens tokensPerPlace { place count } averageTransitionTime throughput { period tokensCompleted averageProcessingTime } }
        tokens(workflowId: "document_review", first: 500, minSeq: $seq) { id workflow { id } }
      }`,
      { id: token.id, seq: token.version },
    );
    expect(a.body.errors).toBeUndefined();
    const d = a.body.data!;
    const restWf = await stack.call<Json>('GET', '/v1/workflows/document_review');
    expect(d.workflow).toMatchObject({ id: 'document_review', version: restWf.body.version });
    expect(d.workflows.map((w: Json) => w.id)).toContain('document_review');
    expect(d.findToken).toEqual({
      id: token.id,
      place: 'draft',
      workflow: { id: 'document_review' },
    });
    const restTransitions = await stack.call<{ items: Json[] }>(
      'GET',
      `/v1/workflows/document_review/tokens/${token.id}/transitions?minSeq=${token.version}`,
    );
    expect(d.availableTransitions.map((t: Json) => [t.id, t.enabled])).toEqual(
      restTransitions.body.items.map((t) => [t.id, t.enabled]),
    );
    const stats = await stack.call<Json>(
      'GET',
      `/v1/workflows/document_review/stats?minSeq=${token.version}`,
    );
    expect(d.workflowAnalytics.totalTokens).toBe(stats.body.totalTokens);
    expect(d.tokens.every((t: Json) => t.workflow.id === 'document_review')).toBe(true);
  });
});

describe('bulkTransitionTokens', () => {
  it('fires like POST …/bulk-fire and reports counts', async () => {
    const tokens = await Promise.all(
      [1, 2, 3].map((n) => stack.createToken('document_review', { metadata: { batch: 'b1', n } })),
    );
    const seq = Math.max(...tokens.map((t) => t.version));
    // The listing reads the read model: wait until it has every token.
    await stack.call('GET', `/v1/workflows/document_review/tokens?minSeq=${seq}`);
    const answer = await gql(
      'mutation { bulkTransitionTokens(input: { workflowId: "document_review", fromPlace: "draft", transitionId: "submit", filter: { metadata: { batch: "b1" } } }) { success processedCount failedCount errors succeededIds truncated } }',
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data!.bulkTransitionTokens).toEqual({
      success: true,
      processedCount: 3,
      failedCount: 0,
      errors: [],
      succeededIds: tokens.map((t) => t.id).sort(),
      truncated: false,
    });
  });
});

describe('errors carry our codes', () => {
  it('TOKEN_NOT_FOUND, UNAUTHENTICATED, validation and parse errors', async () => {
    const missing = await gql('{ natsToken(id: "nope") { id } }');
    expect(missing.status).toBe(200);
    expect(codes(missing)).toEqual(['TOKEN_NOT_FOUND']);
    expect(JSON.stringify(missing.body)).not.toMatch(/at .*\.ts:\d+/);

    const anonymous = await gql('{ workflows { id } }', undefined, null);
    expect(anonymous.status).toBe(401);
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    const bad = await gql('{ workflows { id } }', undefined, 'Bearer cb_nope_nope');
    expect(codes(bad)).toEqual(['UNAUTHENTICATED']);

    const unknownField = await gql('{ workflows { nope } }');
    expect(unknownField.status).toBe(400);
    expect(codes(unknownField)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const parse = await gql('{ workflows { id }');
    expect(codes(parse)).toEqual(['GRAPHQL_PARSE_FAILED']);
    const tooMany = await gql('{ workflows(first: 1000) { id } }');
    expect(codes(tooMany)).toContain('VALIDATION_ERROR');
    const badId = await gql('{ token(id: "a.b") { id } }');
    expect(codes(badId)).toEqual(['VALIDATION_ERROR']);
  });

  it('GUARD_FAILED with failures, VERSION_MISMATCH, TARGET_PLACE_MISMATCH', async () => {
    const defined = await gql(
      'mutation($in: WorkflowDefinitionInput!) { createWorkflow(input: $in) { id version transitions { id guard conditions } } }',
      { in: GUARDED },
    );
    expect(defined.body.errors).toBeUndefined();
    expect(defined.body.data!.createWorkflow.transitions[0].guard).toEqual(
      GUARDED.transitions[0]!.guard,
    );
    const created = await gql(
      'mutation { createToken(input: { workflowId: "gql_guarded", data: { ok: false } }) { id version } }',
    );
    expect(created.body.errors).toBeUndefined();
    const { id, version } = created.body.data!.createToken;

    const guard = await gql(
      `mutation { fireTransition(input: { tokenId: "${id}", transitionId: "finish" }) { id } }`,
    );
    expect(codes(guard)).toEqual(['GUARD_FAILED']);
    expect(guard.body.errors![0]!.extensions.failures.length).toBeGreaterThan(0);

    const mismatch = await gql(
      `mutation { fireTransition(input: { tokenId: "${id}", transitionId: "finish", data: { ok: true } }, expectedVersion: ${version + 1000}) { id } }`,
    );
    expect(codes(mismatch)).toEqual(['VERSION_MISMATCH']);

    const target = await gql(
      `mutation { transitionTokenWithNats(input: { tokenId: "${id}", transitionId: "finish", newPlace: "open", data: { ok: true } }) { id } }`,
    );
    expect(codes(target)).toEqual(['TARGET_PLACE_MISMATCH']);

    const fired = await gql(
      `mutation { fireTransition(input: { tokenId: "${id}", transitionId: "finish", data: { ok: true } }, expectedVersion: ${version}) { place version } }`,
    );
    expect(fired.body.data!.fireTransition.place).toBe('done');
  });
});

describe('tenants and scopes hold as in REST', () => {
  it('a read key may not mutate (FORBIDDEN, as REST answers 403)', async () => {
    const reader = await createKey({ tenant: 'default', scopes: ['read'] });
    const rest = await stack.call(
      'POST',
      '/v1/workflows/document_review/tokens',
      {},
      { authorization: reader },
    );
    expect(rest.status).toBe(403);
    const answer = await gql(
      'mutation { createToken(input: { workflowId: "document_review" }) { id } }',
      undefined,
      reader,
    );
    expect(codes(answer)).toEqual([(rest.body as Json).code]);
    expect(answer.body.errors![0]!.extensions.scope).toBe('tokens:write');
    const read = await gql('{ workflow(id: "document_review") { id } }', undefined, reader);
    expect(read.body.data!.workflow.id).toBe('document_review');
  });

  it("a key of tenant B sees tenant A's workflow and tokens as missing", async () => {
    const token = await stack.createToken('document_review', {});
    const other = await createKey({ tenant: 'tenant_b', scopes: ['read', 'tokens:write'] });
    const wf = await gql('{ workflow(id: "document_review") { id } }', undefined, other);
    const none = await gql('{ workflow(id: "no_such_workflow") { id } }', undefined, other);
    expect(codes(wf)).toEqual(['WORKFLOW_NOT_FOUND']);
    expect(wf.body.errors![0]!.message).toBe(
      none.body.errors![0]!.message.replace('no_such_workflow', 'document_review'),
    );
    const tok = await gql(`{ natsToken(id: "${token.id}") { id } }`, undefined, other);
    expect(codes(tok)).toEqual(['TOKEN_NOT_FOUND']);
    const list = await gql('{ workflows { id } findTokens(filter: {}) { id } }', undefined, other);
    expect(list.body.data).toEqual({ workflows: [], findTokens: [] });
    const fire = await gql(
      `mutation { fireTransition(input: { tokenId: "${token.id}", transitionId: "submit" }) { id } }`,
      undefined,
      other,
    );
    expect(codes(fire)).toEqual(['TOKEN_NOT_FOUND']);
  });
});

describe('limits', () => {
  it('refuses a query over the depth limit with QUERY_TOO_DEEP', async () => {
    const deep = await gql(
      '{ tokens(workflowId: "document_review") { workflow { transitions { id } } } a: workflows { id } ' +
        '__schema { types { fields { type { ' +
        'ofType { '.repeat(12) +
        'name' +
        ' }'.repeat(17),
    );
    expect(deep.status).toBe(400);
    expect(codes(deep)).toEqual(['QUERY_TOO_DEEP']);
    const fragments = await gql(
      'query { workflows { ...A } } fragment A on Workflow { analysis { unreachablePlaces } transitions { id } }',
    );
    expect(fragments.body.errors).toBeUndefined();
  });

  it('introspection works, within the cost limit, and a costly query is QUERY_TOO_COMPLEX', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const intro = await gql(getIntrospectionQuery());
    expect(intro.body.errors).toBeUndefined();
    const names = intro.body.data!.__schema.types.map((t: Json) => t.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'Workflow',
        'Token',
        'NATSToken',
        'TransitionRecord',
        'TokenEvent',
        'WorkflowEvent',
        'JSON',
      ]),
    );
    const costly = await gql(
      '{ a: tokensInPlace(workflowId: "document_review", placeId: "draft", first: 500) { history { data } transitionHistory { metadata } workflow { transitions { fromPlaces } } } }',
    );
    expect(codes(costly)).toEqual(['QUERY_TOO_COMPLEX']);
  });
});

describe('GraphiQL', () => {
  it('is served with its assets from the gateway, no external URL', async () => {
    const page = await fetch(`${stack.baseUrl}/graphiql`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script>(?!<\/script>)|<script [^>]*>[^<]+<\/script>/);
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThanOrEqual(5);
    for (const src of srcs) {
      const res = await fetch(`${stack.baseUrl}${src}`);
      expect(`${src} ${res.status}`).toBe(`${src} 200`);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10);
    }
    const openapi = await stack.call<{ paths: Json }>('GET', '/openapi.json');
    expect(Object.keys(openapi.body.paths).filter((p) => p.startsWith('/graph'))).toEqual([]);
  });
});
