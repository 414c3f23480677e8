import {
  EventGenerator,
  deploymentEnv,
  loadFixtureWorkflow,
  prng,
  startProjectionWorker,
  stopAll,
  type ServiceProcess,
} from '@cb/testing';
import {
  diffReadModels,
  expectedReadModels,
  explainDiff,
  readModels,
  startHarness,
  waitCaughtUp,
  type Harness,
} from './testing/harness';

jest.setTimeout(240_000);

/**
 * Three workers as real processes; while 20,000 events flow, a random worker is SIGKILLed
 * about every second and started again. At the end the read models equal the fold.
 */
describe('chaos: workers killed while events flow', () => {
  let h: Harness;
  const workers: Array<ServiceProcess | undefined> = [];
  /** Every worker started, killed ones included (their logs explain a failure). */
  const everyWorker: ServiceProcess[] = [];

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await stopAll(workers);
    await h?.dispose();
  });

  async function startWorkerProcess(): Promise<ServiceProcess> {
    const worker = await startProjectionWorker(
      deploymentEnv(h.nats.url, h.naming, {
        CB_DUPLICATE_WINDOW_MS: '60000',
        PROJECTION_LEASE_TTL_MS: '8000',
        PROJECTION_ACK_WAIT_MS: '1000',
        PROJECTION_BATCH_SIZE: '200',
        LOG_LEVEL: process.env.CHAOS_LOG ?? 'info',
      }),
    );
    everyWorker.push(worker);
    return worker;
  }

  it('loses no token, leaves none in an old place and counts nothing twice', async () => {
    const workflows = (['document-review', 'order-processing', 'article-publishing'] as const).map(
      loadFixtureWorkflow,
    );
    const generator = new EventGenerator({
      store: h.store,
      naming: h.naming,
      workflows,
      seed: 1234,
      tokens: 1000,
      concurrency: 32,
    });
    await generator.defineWorkflows();
    for (let i = 0; i < 3; i++) workers.push(await startWorkerProcess());

    const random = prng(99);
    let kills = 0;
    const killLog: string[] = [];
    let flowing = true;
    const chaos = (async () => {
      while (flowing) {
        await new Promise((r) => setTimeout(r, 700 + random() * 600));
        if (!flowing) break;
        const victim = Math.floor(random() * workers.length);
        killLog.push(
          `${new Date().toISOString()} SIGKILL ${workers[victim]?.name} (pid ${workers[victim]?.pid})`,
        );
        workers[victim]?.kill('SIGKILL');
        await workers[victim]?.waitExit(5000);
        kills++;
        workers[victim] = await startWorkerProcess();
      }
    })();
    // Events flow until both 20,000 were written and several kills happened while they did.
    let events = 0;
    while (events < 20_000 || kills < 5) events += (await generator.run(2000)).events;
    flowing = false;
    await chaos;

    expect(events).toBeGreaterThanOrEqual(20_000);
    expect(kills).toBeGreaterThanOrEqual(5);
    try {
      await waitCaughtUp(h, 1, 60_000);
    } catch (err) {
      for (const w of workers) {
        const lines = (w?.output() ?? '').split('\n').filter((l) => /failed|error|lost/i.test(l));
        process.stderr.write(`--- ${w?.name}\n${lines.slice(-10).join('\n')}\n`);
      }
      throw err;
    }
    const expected = await expectedReadModels(h);
    const actual = await readModels(h, 1);
    const diff = diffReadModels(actual, expected);
    if (diff.length > 0) {
      process.stderr.write(`${await explainDiff(h, actual, diff)}\n${killLog.join('\n')}\n`);
      for (const w of everyWorker) {
        const lines = w
          .output()
          .split('\n')
          .filter((l) => /lease|failed|error/i.test(l));
        process.stderr.write(`--- ${w.name}\n${lines.slice(-40).join('\n')}\n`);
      }
    }
    expect(diff).toEqual([]);
  });
});
