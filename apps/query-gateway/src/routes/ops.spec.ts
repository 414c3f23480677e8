import Fastify from 'fastify';
import { READINESS_ERROR_CHECK, READINESS_TIMEOUT_CHECK, boundedReadiness, opsRoutes } from './ops';

describe('boundedReadiness', () => {
  it('reuses an answer within the cache time, concurrent callers included', async () => {
    let now = 0;
    let calls = 0;
    const ready = boundedReadiness(
      async () => ({ nats: true, run: ++calls > 0 }),
      1000,
      1000,
      () => now,
    );
    const [a, b] = await Promise.all([ready(), ready()]);
    expect(a).toEqual({ nats: true, run: true });
    expect(b).toBe(a);
    now = 999;
    await ready();
    expect(calls).toBe(1);
    now = 1000;
    await ready();
    expect(calls).toBe(2);
  });

  it('answers not ready when the checks hang or fail', async () => {
    const hung = boundedReadiness(() => new Promise<Record<string, boolean>>(() => {}), 0, 20);
    await expect(hung()).resolves.toEqual({ [READINESS_TIMEOUT_CHECK]: false });
    const failing = boundedReadiness(async () => Promise.reject(new Error('boom')), 0, 1000);
    await expect(failing()).resolves.toEqual({ [READINESS_ERROR_CHECK]: false });
    const throwing = boundedReadiness(
      () => {
        throw new Error('sync boom');
      },
      0,
      1000,
    );
    await expect(throwing()).resolves.toEqual({ [READINESS_ERROR_CHECK]: false });
  });
});

describe('/ready', () => {
  it('is 200 when every check passes, 503 with the checks otherwise, and never hangs', async () => {
    let checks: Record<string, boolean> | 'hang' = { nats: true, tokensBucket: true };
    const app = Fastify();
    await app.register(opsRoutes, {
      readiness: () => (checks === 'hang' ? new Promise(() => {}) : Promise.resolve(checks)),
      readinessCacheMs: 0,
      readinessTimeoutMs: 50,
    });
    try {
      const ok = await app.inject({ method: 'GET', url: '/ready' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ status: 'ready', checks: { nats: true, tokensBucket: true } });

      checks = { nats: true, tokensBucket: false };
      const missing = await app.inject({ method: 'GET', url: '/ready' });
      expect(missing.statusCode).toBe(503);
      expect(missing.json()).toEqual({
        status: 'not ready',
        checks: { nats: true, tokensBucket: false },
      });

      checks = 'hang';
      const hung = await app.inject({ method: 'GET', url: '/ready' });
      expect(hung.statusCode).toBe(503);
      expect(hung.json()).toEqual({
        status: 'not ready',
        checks: { [READINESS_TIMEOUT_CHECK]: false },
      });
    } finally {
      await app.close();
    }
  });

  it('reads the live checks at every probe, outside the cache of the others', async () => {
    let calls = 0;
    let answering = true;
    const app = Fastify();
    await app.register(opsRoutes, {
      readiness: async () => ({ nats: ++calls > 0 }),
      liveReadiness: () => ({ commandService: answering }),
      readinessCacheMs: 60_000,
    });
    try {
      const ok = await app.inject({ method: 'GET', url: '/ready' });
      expect([ok.statusCode, ok.json()]).toEqual([
        200,
        { status: 'ready', checks: { nats: true, commandService: true } },
      ]);
      answering = false;
      const down = await app.inject({ method: 'GET', url: '/ready' });
      expect([down.statusCode, down.json()]).toEqual([
        503,
        { status: 'not ready', checks: { nats: true, commandService: false } },
      ]);
      expect(calls).toBe(1);
    } finally {
      await app.close();
    }
  });
});
