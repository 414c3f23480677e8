import type { RouteOptions } from 'fastify';
import type { App } from '../app-type';
import { TEST_ADMIN_HEADERS, appWithoutNats } from '../testing/app-without-nats';

/** Every number schema under `schema`, with where it is. */
function numbersIn(
  schema: unknown,
  at: string,
  out: Array<[string, Record<string, unknown>]>,
): void {
  if (typeof schema !== 'object' || schema === null) return;
  const node = schema as Record<string, unknown>;
  if (node.type === 'integer' || node.type === 'number') out.push([at, node]);
  for (const [key, child] of Object.entries(node)) {
    if (Array.isArray(child)) child.forEach((c, i) => numbersIn(c, `${at}/${key}/${i}`, out));
    else numbersIn(child, `${at}/${key}`, out);
  }
}

const bounded = (node: Record<string, unknown>): boolean => {
  const max = node.maximum ?? node.exclusiveMaximum;
  const min = node.minimum ?? node.exclusiveMinimum;
  return (
    typeof max === 'number' &&
    typeof min === 'number' &&
    max <= Number.MAX_SAFE_INTEGER &&
    min >= -Number.MAX_SAFE_INTEGER
  );
};

describe('issue 10, measured 6: 5xx and waits on bad parameters', () => {
  let app: App;
  const routes: RouteOptions[] = [];

  beforeAll(async () => {
    app = appWithoutNats();
    // The routes are registered in plugins, which load on ready: this hook sees every one.
    app.addHook('onRoute', (route) => {
      routes.push(route as RouteOptions);
    });
    await app.ready();
  });

  afterAll(async () => {
    await app.close();
  });

  it('every integer of every route’s params, query string and headers has finite bounds within ±(2^53−1)', () => {
    const numbers: Array<[string, Record<string, unknown>]> = [];
    for (const route of routes) {
      const schema = (route.schema ?? {}) as Record<string, unknown>;
      for (const part of ['params', 'querystring', 'headers']) {
        numbersIn(schema[part], `${String(route.method)} ${route.url} ${part}`, numbers);
      }
    }
    // The walk saw the routes and their integers (version, minSeq, limit, since, …).
    expect(routes.map((r) => r.url)).toEqual(
      expect.arrayContaining(['/v1/workflows/:workflowId', '/v1/tokens', '/ready']),
    );
    expect(numbers.length).toBeGreaterThan(20);
    expect(numbers.filter(([, node]) => !bounded(node)).map(([at]) => at)).toEqual([]);
  });

  it('the walk would catch an integer without a maximum', () => {
    const numbers: Array<[string, Record<string, unknown>]> = [];
    numbersIn({ properties: { version: { type: 'integer', minimum: 1 } } }, 'q', numbers);
    expect(numbers.map(([at, node]) => [at, bounded(node)])).toEqual([
      ['q/properties/version', false],
    ]);
  });

  it('GET /v1/workflows/x?version=1e400 (and Infinity, 2^53) is 400 VALIDATION_ERROR, not 500', async () => {
    for (const version of ['1e400', 'Infinity', '9007199254740992', '-1', '1.5']) {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/workflows/x?version=${version}`,
        headers: TEST_ADMIN_HEADERS,
      });
      expect({ version, status: res.statusCode, code: res.json<{ code: string }>().code }).toEqual({
        version,
        status: 400,
        code: 'VALIDATION_ERROR',
      });
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });
});
