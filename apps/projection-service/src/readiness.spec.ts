import { boundedProbe, workerReadiness, type WorkerReadinessDeps } from './readiness';

const never = (): Promise<unknown> => new Promise(() => undefined);

describe('boundedProbe', () => {
  it('answers within its bound whatever the probe does', async () => {
    const started = performance.now();
    expect(await boundedProbe(never, 100)()).toBe(false);
    expect(performance.now() - started).toBeLessThan(300);
    expect(await boundedProbe(() => Promise.reject(new Error('no responders')), 100)()).toBe(false);
    expect(await boundedProbe(() => Promise.resolve(null), 100)()).toBe(true);
  });

  it('shares the probe in flight between concurrent checks, and probes again afterwards', async () => {
    let calls = 0;
    const check = boundedProbe(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
    }, 1000);
    expect(await Promise.all([check(), check(), check()])).toEqual([true, true, true]);
    expect(calls).toBe(1);
    await check();
    expect(calls).toBe(2);
  });
});

describe('workerReadiness', () => {
  const run = async (deps: WorkerReadinessDeps): Promise<Record<string, boolean>> =>
    Object.fromEntries(
      await Promise.all(
        workerReadiness(deps, 100).map(async (c) => [c.name, await c.check()] as const),
      ),
    );
  const healthy: WorkerReadinessDeps = {
    connected: () => true,
    read: () => Promise.resolve(null),
    generation: () => 1,
    failing: () => [],
  };

  it('is ready when connected, JetStream answers, a generation is followed and nothing fails', async () => {
    expect(await run(healthy)).toEqual({
      nats: true,
      jetStreamAnswers: true,
      projector: true,
      partitionsApplying: true,
    });
  });

  it('tells which part is missing', async () => {
    let reads = 0;
    const disconnected = await run({
      ...healthy,
      connected: () => false,
      read: () => {
        reads++;
        return Promise.resolve(null);
      },
    });
    expect(disconnected).toMatchObject({ nats: false, jetStreamAnswers: false });
    expect(reads).toBe(0);
    expect(await run({ ...healthy, read: never })).toMatchObject({
      nats: true,
      jetStreamAnswers: false,
    });
    expect(await run({ ...healthy, generation: () => null })).toMatchObject({ projector: false });
    expect(await run({ ...healthy, failing: () => [{ item: 3 }] })).toMatchObject({
      partitionsApplying: false,
    });
  });
});
