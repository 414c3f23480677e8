import { workerReadiness, type WorkerReadinessDeps } from './readiness';

const never = (): Promise<unknown> => new Promise(() => undefined);

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
