import { GuardPool } from '@cb/guard-pool';
import { createLogger } from '@cb/logging';
import type { DefinitionCheck } from '@cb/schemas';
import { guardedWorkflow, loadFixtureWorkflow } from '@cb/testing';
import type { App } from '../app-type';
import { TEST_ADMIN_HEADERS, appWithoutNats } from '../testing/app-without-nats';

/*
 * POST /v1/workflow-validations: the checks of POST /v1/workflows, guards compiled in a real
 * guard pool, and nothing written: the app has no command client (any use of it would fail the
 * request with a 500).
 */

jest.setTimeout(30_000);

let app: App;
let guards: GuardPool;

beforeAll(async () => {
  guards = new GuardPool({
    workers: 1,
    timeoutMs: 1000,
    compileTimeoutMs: 5000,
    quarantineStrikes: 2,
    quarantineWindowMs: 60_000,
    quarantineMs: 60_000,
    workerMemoryMb: 128,
    logger: createLogger({ service: 'validations-test', level: 'silent' }),
  });
  await guards.whenReady();
  app = appWithoutNats({ guards, maxBodyBytes: 64 * 1024 });
});

afterAll(async () => {
  await app?.close();
  await guards?.close();
});

async function check(body: unknown): Promise<{ status: number; body: DefinitionCheck }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/workflow-validations',
    headers: { ...TEST_ADMIN_HEADERS, 'content-type': 'application/json' },
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json<DefinitionCheck>() };
}

describe('POST /v1/workflow-validations', () => {
  it('a fixture is valid, with its analysis', async () => {
    const res = await check(loadFixtureWorkflow('order-processing'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      valid: true,
      errors: [],
      analysis: { unreachablePlaces: [], deadEndPlaces: [] },
    });
  });

  it('lists every semantic problem with its path, and the analysis', async () => {
    const res = await check({
      id: 'broken',
      name: 'Broken',
      places: ['a', 'b', 'c', 'stuck', 'a', 'pit'],
      initialPlace: 'a',
      finalPlaces: ['c'],
      transitions: [
        { id: 'go', from: ['a'], to: 'b' },
        { id: 'go', from: ['b'], to: 'nowhere' },
        { id: 'lost', from: ['stuck'], to: 'c' },
        { id: 'fall', from: ['a'], to: 'pit' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors.map((e) => e.path).sort()).toEqual(
      ['/places/4', '/transitions/1/id', '/transitions/1/to'].sort(),
    );
    expect(res.body.analysis).toEqual({
      unreachablePlaces: ['c', 'stuck'],
      deadEndPlaces: ['pit'],
    });
  });

  it('answers shape problems as errors (200), without an analysis', async () => {
    const res = await check({ id: 'half', name: 'Half', places: ['a'] });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.analysis).toBeUndefined();
    expect(res.body.errors.length).toBeGreaterThan(0);
    expect(res.body.errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['/initialPlace', '/transitions']),
    );
  });

  it('compiles guards as the create does: an RE2-unsupported pattern is reported with its code', async () => {
    const res = await check(
      guardedWorkflow('lookahead', {
        properties: { data: { properties: { s: { type: 'string', pattern: '^(?=a)a$' } } } },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        code: 'GUARD_PATTERN_UNSUPPORTED',
        path: expect.stringMatching(/^\/transitions\/0\/guard/),
      }),
    ]);
  });

  it('refuses what is not a JSON object (400) and bodies over the limit (413)', async () => {
    const list = await check([1, 2]);
    expect(list.status).toBe(400);
    expect((list.body as unknown as { code: string }).code).toBe('VALIDATION_ERROR');
    const big = await check({
      ...loadFixtureWorkflow('order-processing'),
      description: 'x'.repeat(70_000),
    });
    expect(big.status).toBe(413);
  });

  it('needs a credential', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/workflow-validations', payload: {} });
    expect(res.statusCode).toBe(401);
  });
});
