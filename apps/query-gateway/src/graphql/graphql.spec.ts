import { getIntrospectionQuery } from 'graphql';
import { TEST_ADMIN_HEADERS, appWithoutNats } from '../testing/app-without-nats';

/** `/graphql` without NATS: what is answered before any read (auth, parsing, validation, limits). */
describe('/graphql before any read', () => {
  const app = appWithoutNats();
  afterAll(() => app.close());

  async function post(query: string, headers: Record<string, string> = TEST_ADMIN_HEADERS) {
    const res = await app.inject({ method: 'POST', url: '/graphql', headers, payload: { query } });
    return {
      status: res.statusCode,
      body: res.json() as { data?: unknown; errors?: { extensions: { code: string } }[] },
    };
  }
  const codes = (a: { body: { errors?: { extensions: { code: string } }[] } }) =>
    (a.body.errors ?? []).map((e) => e.extensions.code);

  it('needs a credential: 401 UNAUTHENTICATED as GraphQL errors', async () => {
    const a = await post('{ workflows { id } }', {});
    expect(a.status).toBe(401);
    expect(codes(a)).toEqual(['UNAUTHENTICATED']);
  });

  it('codes parse and validation errors (400)', async () => {
    expect(codes(await post('{ workflows { id }'))).toEqual(['GRAPHQL_PARSE_FAILED']);
    const v = await post('{ workflows { nope } }');
    expect(v.status).toBe(400);
    expect(codes(v)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('refuses deep queries, introspection too, and answers the introspection query', async () => {
    const deep = await post(
      '{ tokens(workflowId: "w") { workflow { transitions { id } } } __schema { types { fields { type { ' +
        'ofType { '.repeat(12) +
        'name' +
        ' }'.repeat(12) +
        ' } } } } }',
    );
    expect(deep.status).toBe(400);
    expect(codes(deep)).toEqual(['QUERY_TOO_DEEP']);
    const intro = await post(getIntrospectionQuery());
    expect(intro.body.errors).toBeUndefined();
    // Deep data selections: 11 levels of schema fields.
    const data = await post('{ tokens(workflowId: "w") { workflow { transitions { id } } } }');
    expect(codes(data)).not.toContain('QUERY_TOO_DEEP');
  });

  it('refuses a costly query with QUERY_TOO_COMPLEX', async () => {
    const costly = await post(
      '{ tokensInPlace(workflowId: "w", placeId: "p", first: 500) { history { data } transitionHistory { metadata } workflow { transitions { fromPlaces } } } }',
    );
    expect(codes(costly)).toEqual(['QUERY_TOO_COMPLEX']);
  });
});
