import { Registry } from 'prom-client';
import type { GuardRequest } from '@cb/domain';
import { createLogger } from '@cb/logging';
import type { GuardSchema, WorkflowDefinition } from '@cb/schemas';
import { HOSTILE_DATA, HOSTILE_GUARD } from '@cb/testing';
import { GuardPool, GuardPoolError, type GuardPoolOptions } from './guard-pool';

jest.setTimeout(60_000);

const logger = createLogger({ service: 'guard-pool-spec', level: 'silent' });

let versions = 0;
function definition(guards: Record<string, GuardSchema>): WorkflowDefinition {
  return {
    id: 'wf',
    version: ++versions,
    name: 'wf',
    places: ['a', 'b'],
    initialPlace: 'a',
    transitions: Object.entries(guards).map(([id, guard]) => ({ id, from: ['a'], to: 'b', guard })),
    createdAt: '2026-01-01T00:00:00.000Z',
  };
}
const request = (transition: string, data: Record<string, unknown> = {}): GuardRequest => ({
  transition,
  input: { data, metadata: {} },
});
const needsX: GuardSchema = { properties: { data: { required: ['x'] } } };

function pool(overrides: Partial<GuardPoolOptions> = {}): GuardPool {
  const p = new GuardPool({
    workers: 2,
    timeoutMs: 100,
    compileTimeoutMs: 5000,
    quarantineStrikes: 2,
    quarantineWindowMs: 60_000,
    quarantineMs: 60_000,
    workerMemoryMb: 128,
    logger,
    ...overrides,
  });
  pools.push(p);
  return p;
}
/** A pool whose workers have started, so timings below are the evaluations'. */
async function startedPool(overrides: Partial<GuardPoolOptions> = {}): Promise<GuardPool> {
  const p = pool(overrides);
  await p.whenReady();
  return p;
}
const pools: GuardPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('GuardPool', () => {
  it('evaluates guards in worker threads: passed, failed with capped failures', async () => {
    const p = pool();
    const def = definition({
      needsX,
      always: true,
      list: { properties: { data: { properties: { xs: { items: { type: 'string' } } } } } },
    });
    const verdicts = await p.evaluate(def, [
      request('needsX', { x: 1 }),
      request('always'),
      request('list', { xs: Array.from({ length: 100 }, (_, i) => i) }),
    ]);
    expect(verdicts.get('needsX')).toEqual({ status: 'passed' });
    expect(verdicts.get('always')).toEqual({ status: 'passed' });
    expect(verdicts.get('list')).toMatchObject({ status: 'failed', failureCount: 100 });
    const again = await p.evaluate(def, [request('needsX')]);
    expect(again.get('needsX')).toMatchObject({
      status: 'failed',
      failures: [{ path: '/data/x', keyword: 'required' }],
    });
  });

  it('compiles a definition and reports coded errors', async () => {
    const p = pool();
    const result = await p.compile(
      definition({ ok: needsX, typo: { tpye: 'object' }, look: { pattern: '(?=a)' } }).transitions,
      'define:wf',
    );
    expect(result).toEqual({
      errors: [
        expect.objectContaining({
          path: '/transitions/1/guard',
          message: expect.stringMatching(/does not compile/),
        }),
        expect.objectContaining({
          path: '/transitions/2/guard',
          code: 'GUARD_PATTERN_UNSUPPORTED',
        }),
      ],
    });
  });

  it('abandons a guard past its budget: too-expensive, the worker replaced, the next evaluation fine', async () => {
    const registry = new Registry();
    const p = await startedPool({ registry });
    const def = definition({ hostile: HOSTILE_GUARD, needsX });
    const verdicts = await p.evaluate(def, [
      request('needsX', { x: 1, ...HOSTILE_DATA }),
      request('hostile', HOSTILE_DATA),
    ]);
    // Left alone, the hostile guard passes after seconds of CPU: the budget cut it.
    expect(verdicts.get('needsX')).toEqual({ status: 'passed' });
    expect(verdicts.get('hostile')).toEqual({
      status: 'too-expensive',
      message: 'evaluating the guard took longer than 100 ms',
    });
    const next = await p.evaluate(def, [request('needsX')]);
    expect(next.get('needsX')?.status).toBe('failed');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/cb_guard_overruns_total 1/);
    expect(metrics).toMatch(/cb_guard_worker_restarts_total\{reason="overrun"\} 1/);
  });

  it('quarantines a transition that keeps overrunning: refused at once until the cool-down ends', async () => {
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const registry = new Registry();
    const p = pool({ now: () => now, registry });
    const def = definition({ hostile: HOSTILE_GUARD });
    const first = await p.evaluate(def, [request('hostile', HOSTILE_DATA)]);
    expect(first.get('hostile')).not.toHaveProperty('quarantinedUntil');
    const second = await p.evaluate(def, [request('hostile', HOSTILE_DATA)]);
    expect(second.get('hostile')).toMatchObject({
      status: 'too-expensive',
      quarantinedUntil: '2026-01-01T00:01:00.000Z',
    });
    const started = performance.now();
    const refused = await p.evaluate(def, [request('hostile', HOSTILE_DATA)]);
    expect(performance.now() - started).toBeLessThan(20);
    expect(refused.get('hostile')).toMatchObject({
      status: 'too-expensive',
      message: expect.stringMatching(/quarantined until 2026-01-01T00:01:00.000Z/),
    });
    expect(p.quarantined).toBe(1);
    // The second overrun was caught by the worker's own watchdog: the thread was kept.
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/cb_guard_overruns_total 2/);
    expect(metrics).toMatch(/cb_guard_worker_restarts_total\{reason="overrun"\} 1/);
    now += 60_001;
    expect(p.quarantined).toBe(0);
  });

  it('keeps evaluating other definitions while a hostile guard runs', async () => {
    const p = await startedPool({ timeoutMs: 20_000 });
    const hostile = definition({ hostile: HOSTILE_GUARD });
    const normal = definition({ needsX });
    // Both workers compile the normal definition first, so only evaluations are timed below.
    await Promise.all([1, 2].map((x) => p.evaluate(normal, [request('needsX', { x })])));
    let hostileDone = false;
    const running = p
      .evaluate(hostile, [request('hostile', HOSTILE_DATA)])
      .finally(() => (hostileDone = true));
    const durations: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const v = await p.evaluate(normal, [request('needsX', { x: i })]);
      durations.push(performance.now() - started);
      expect(v.get('needsX')).toEqual({ status: 'passed' });
    }
    // The hostile evaluation is still going: the normal ones never waited for it.
    expect(hostileDone).toBe(false);
    expect((await running).get('hostile')?.status).toBe('passed');
    expect(Math.max(...durations)).toBeLessThan(100);
  });

  it('replaces an abandoned worker with its started spare at once, so nothing waits for a new thread', async () => {
    const p = await startedPool({ workers: 1 });
    const normal = definition({ needsX });
    const hostile = definition({ hostile: HOSTILE_GUARD });
    await p.evaluate(normal, [request('needsX', { x: 1 })]);
    const overran = await p.evaluate(hostile, [request('hostile', HOSTILE_DATA)]);
    expect(overran.get('hostile')?.status).toBe('too-expensive');
    const started = performance.now();
    const next = await p.evaluate(normal, [request('needsX', { x: 1 })]);
    // A new worker thread takes hundreds of ms to start; the spare was ready.
    expect(performance.now() - started).toBeLessThan(100);
    expect(next.get('needsX')).toEqual({ status: 'passed' });
    expect(p.readyWorkers).toBe(1);
  });

  it('keeps definitions that overran to one lane, so one worker stays free for the rest', async () => {
    // The three hostile evaluations queue behind each other on one lane (300 ms each, plus a
    // worker restart after each overrun, slower on a loaded machine): let them wait for it.
    const p = await startedPool({ workers: 2, timeoutMs: 300, maxWaitMs: 15_000 });
    const normal = definition({ needsX });
    const hostiles = [1, 2, 3].map(() => definition({ hostile: HOSTILE_GUARD }));
    // Each has overrun once: all three are suspects now.
    for (const h of hostiles) {
      expect((await p.evaluate(h, [request('hostile', HOSTILE_DATA)])).get('hostile')?.status).toBe(
        'too-expensive',
      );
    }
    await p.evaluate(normal, [request('needsX', { x: 1 })]);
    // All three again at once: they take turns on one worker; the normal one is never held up.
    const attack = Promise.all(
      hostiles.map((h) => p.evaluate(h, [request('hostile', HOSTILE_DATA)])),
    );
    await new Promise((r) => setTimeout(r, 20));
    const started = performance.now();
    const v = await p.evaluate(normal, [request('needsX', { x: 2 })]);
    expect(performance.now() - started).toBeLessThan(100);
    expect(v.get('needsX')).toEqual({ status: 'passed' });
    for (const verdicts of await attack) {
      expect(verdicts.get('hostile')?.status).toBe('too-expensive');
    }
  });

  it('abandons a guard whose evaluation exhausts the worker heap', async () => {
    const p = pool({ workerMemoryMb: 32, timeoutMs: 10_000 });
    // Every item fails 1000 branches: millions of error objects.
    const def = definition({
      greedy: {
        properties: {
          data: {
            properties: {
              xs: { items: { anyOf: Array.from({ length: 1000 }, (_, i) => ({ const: i })) } },
            },
          },
        },
      },
    });
    const verdicts = await p.evaluate(def, [
      request('greedy', { xs: Array.from({ length: 20_000 }, () => 'no') }),
    ]);
    expect(verdicts.get('greedy')).toMatchObject({
      status: 'too-expensive',
      message: expect.stringMatching(/failed|exited/),
    });
    const after = await p.evaluate(definition({ needsX }), [request('needsX', { x: 1 })]);
    expect(after.get('needsX')).toEqual({ status: 'passed' });
  });

  it('refuses work once closed, and work that waits too long for a worker', async () => {
    const p = await startedPool({ workers: 1, timeoutMs: 5000, maxWaitMs: 200 });
    const hostile = definition({ hostile: HOSTILE_GUARD });
    const busy = p.evaluate(hostile, [request('hostile', HOSTILE_DATA)]);
    await expect(p.evaluate(definition({ needsX }), [request('needsX')])).rejects.toBeInstanceOf(
      GuardPoolError,
    );
    await busy;
    await p.close();
    await expect(p.evaluate(definition({ needsX }), [request('needsX')])).rejects.toBeInstanceOf(
      GuardPoolError,
    );
  });
});
