import { kvStreamName } from '@cb/subjects';
import { LeanKv } from '@cb/nats';
import type { TokenDoc } from '@cb/schemas';
import { EventGenerator, loadFixtureWorkflow } from '@cb/testing';
import { rebuildReadModels, type RebuildProgress } from './rebuild';
import {
  diffReadModels,
  expectedReadModels,
  generation,
  readModels,
  silent,
  startHarness,
  startWorker,
  waitCaughtUp,
  type Harness,
} from './testing/harness';
import type { ProjectionWorker } from './worker';

jest.setTimeout(120_000);

describe('rebuild', () => {
  let h: Harness;
  let worker: ProjectionWorker;

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await worker?.stop();
    await h?.dispose();
  });

  it('replays into fresh read models equal to the live ones, while the live ones keep serving', async () => {
    const workflows = (['document-review', 'order-processing', 'software-deployment'] as const).map(
      loadFixtureWorkflow,
    );
    const generator = new EventGenerator({
      store: h.store,
      naming: h.naming,
      workflows,
      seed: 9,
      tokens: 300,
      concurrency: 16,
    });
    await generator.defineWorkflows();
    worker = startWorker(h);
    await worker.start();
    await generator.runUntilEvents(3_000);
    await waitCaughtUp(h, 1);
    const live = new LeanKv(h.infra.mux, h.naming.readModelBucket('tokens', 1));
    const someKey = [...(await readModels(h, 1)).tokens.keys()][0]!;
    const someToken = someKey.slice('default.'.length);

    const progress: RebuildProgress[] = [];
    const servedDuringRebuild: Array<TokenDoc | undefined> = [];
    const writing = generator.runUntilEvents(2_000);
    const rebuilding = rebuildReadModels({
      deps: h.deps({ workerId: 'rebuilder' }),
      meta: h.infra.meta,
      naming: h.naming,
      logger: silent,
      onProgress: (p) => {
        progress.push(p);
        if (progress.length % 4 === 1) {
          void live.get(someKey).then(
            (e) => servedDuringRebuild.push(e?.json<TokenDoc>()),
            () => servedDuringRebuild.push(undefined),
          );
        }
      },
    });
    const [, result] = await Promise.all([writing, rebuilding]);

    expect(result).toMatchObject({ from: 1, to: 2 });
    expect(await generation(h)).toBe(2);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]!.applied).toBe(progress[progress.length - 1]!.total);
    expect(servedDuringRebuild.length).toBeGreaterThan(0);
    expect(servedDuringRebuild.every((doc) => doc?.id === someToken)).toBe(true);

    // The live worker followed the pointer; the new read models equal the fold of the stream.
    expect(worker.generation).toBe(2);
    await waitCaughtUp(h, 2);
    expect(diffReadModels(await readModels(h, 2), await expectedReadModels(h))).toEqual([]);
    // The old generation is gone.
    await expect(
      h.jsm.streams.info(kvStreamName(h.naming.readModelBucket('tokens', 1))),
    ).rejects.toThrow();
  });
});
