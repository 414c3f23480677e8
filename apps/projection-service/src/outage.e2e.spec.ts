import { kvSubjectPrefix } from '@cb/subjects';
import {
  EventGenerator,
  deploymentEnv,
  freePort,
  loadFixtureWorkflow,
  startNatsFaultProxy,
  startService,
  stopAll,
  type NatsFaultProxy,
  type ServiceProcess,
  waitFor,
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

const ACK_WAIT_MS = 1000;
const MAX_ATTEMPTS = 2;
/** Far longer than MAX_ATTEMPTS × ACK_WAIT_MS, and than the 5 s a write waits for its answer. */
const OUTAGE_MS = 15_000;
/** Longer than MAX_ATTEMPTS × ACK_WAIT_MS and than the workers' lease validity (4.8 s). */
const FREEZE_MS = 6000;

type Checks = Record<string, boolean>;

interface Worker {
  process: ServiceProcess;
  /** `http://127.0.0.1:<port>` of its /health, /ready and /metrics. */
  ops: string;
}

/**
 * The issue's measurement, on one real nats-server: two workers as processes, connected through
 * a proxy that drops their writes to the stats bucket (what they saw while its stream elected a
 * leader: writes without an answer), while events keep flowing straight into the stream. Then
 * the whole server stops answering (SIGSTOP) for longer than the workers' leases.
 */
describe('issue 11, measured 3: outages became dead letters', () => {
  let h: Harness;
  let proxy: NatsFaultProxy;
  const workers: Worker[] = [];
  const workflows = (['document-review', 'order-processing', 'article-publishing'] as const).map(
    loadFixtureWorkflow,
  );
  let generator: EventGenerator;

  beforeAll(async () => {
    h = await startHarness();
    proxy = await startNatsFaultProxy(h.nats.port);
    generator = new EventGenerator({
      store: h.store,
      naming: h.naming,
      workflows,
      seed: 311,
      tokens: 300,
      concurrency: 16,
    });
    await generator.defineWorkflows();
    for (let i = 0; i < 2; i++) workers.push(await startWorker());
  });

  afterAll(async () => {
    await stopAll(workers.map((w) => w.process));
    await proxy?.close();
    await h?.dispose();
  });

  async function startWorker(): Promise<Worker> {
    const port = await freePort();
    const ops = `http://127.0.0.1:${port}`;
    const process = await startService('projection-service', {
      env: deploymentEnv(proxy.url, h.naming, {
        CB_DUPLICATE_WINDOW_MS: '60000',
        PROJECTION_LEASE_TTL_MS: '8000',
        PROJECTION_ACK_WAIT_MS: String(ACK_WAIT_MS),
        PROJECTION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        PROJECTION_BATCH_SIZE: '200',
        PROJECTION_HTTP_PORT: String(port),
        PROJECTION_HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      }),
      readyUrl: `${ops}/ready`,
    });
    return { process, ops };
  }

  async function deadLetters(): Promise<number> {
    return (await h.jsm.streams.info(h.naming.deadLetterStream)).state.messages;
  }

  async function expectReadModelsEqualTheStream(): Promise<void> {
    await waitCaughtUp(h, 1, 90_000);
    const actual = await readModels(h, 1);
    const diff = diffReadModels(actual, await expectedReadModels(h));
    if (diff.length > 0) process.stderr.write(`${await explainDiff(h, actual, diff)}\n`);
    expect(diff).toEqual([]);
  }

  /** /ready of a worker, and how long it took to answer. */
  async function ready(w: Worker): Promise<{ status: number; checks: Checks; ms: number }> {
    const started = performance.now();
    const res = await fetch(`${w.ops}/ready`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { checks: Checks };
    return { status: res.status, checks: body.checks, ms: performance.now() - started };
  }

  /** The values of one per-partition gauge of every worker, by partition. */
  async function gauge(name: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const w of workers) {
      const text = await (await fetch(`${w.ops}/metrics`)).text();
      for (const m of text.matchAll(new RegExp(`^${name}\\{item="([^"]+)"\\} (\\S+)$`, 'gm'))) {
        out.set(m[1]!, Number(m[2]));
      }
    }
    return out;
  }

  /** Every log line of the workers with this message, parsed. */
  function logged(msg: string): Array<Record<string, unknown>> {
    return workers.flatMap((w) =>
      w.process
        .output()
        .split('\n')
        .filter((line) => line.includes(`"msg":"${msg}"`))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    );
  }

  const max = (values: Map<string, number>): number => Math.max(0, ...values.values());

  /** Until both workers hold their share of the 9 leases (no rebalancing during the outage). */
  async function waitBalanced(): Promise<void> {
    await waitFor(
      async () => {
        const owned = await Promise.all(
          workers.map(
            async (w) =>
              ((await (await fetch(`${w.ops}/health`)).json()) as { owned: unknown[] }).owned
                .length,
          ),
        );
        return owned.every((n) => n >= 4) && owned.reduce((a, b) => a + b, 0) === 9;
      },
      { timeoutMs: 30_000, description: 'both workers to hold their share of the leases' },
    );
  }

  it('a stats bucket that stops answering for 15 s while events flow: nothing dead-lettered, read models equal the stream, lag and /ready tell', async () => {
    await generator.run(1000);
    await waitBalanced();
    proxy.dropPublishes([kvSubjectPrefix(h.naming.readModelBucket('stats', 1))]);
    const outageStarted = Date.now();
    let during = 0;
    // Once the first writes have gone unanswered for their full 5 s: what the workers show.
    let seen: Record<string, unknown> | null = null;
    let slowestReadyMs = 0;
    try {
      while (Date.now() - outageStarted < OUTAGE_MS) {
        during += (await generator.run(100)).events;
        await new Promise((r) => setTimeout(r, 100)); // about 1000 events a second
        if (Date.now() - outageStarted < 6000 || seen?.lagVisible) continue;
        const probes = await Promise.all(workers.map(ready));
        slowestReadyMs = Math.max(slowestReadyMs, ...probes.map((r) => r.ms));
        const observed = {
          oldestUnappliedAge: max(await gauge('cb_projection_oldest_unapplied_age_seconds')),
          failingSeconds: max(await gauge('cb_projection_failing_seconds')),
          pending: max(await gauge('cb_projection_pending_events')),
          ready: probes.map((r) => ({ status: r.status, checks: r.checks })),
        };
        const lagVisible =
          observed.oldestUnappliedAge > 5 &&
          observed.failingSeconds > 1 &&
          observed.pending > 0 &&
          probes.every((r) => r.status === 503);
        seen = { ...observed, lagVisible };
      }
    } finally {
      proxy.heal();
    }
    await generator.run(500);

    expect(seen).toMatchObject({
      lagVisible: true,
      ready: workers.map(() => ({
        status: 503,
        checks: { nats: true, jetStreamAnswers: true, partitionsApplying: false },
      })),
    });
    expect(slowestReadyMs).toBeLessThan(1000);
    expect(during).toBeGreaterThan(100);
    expect(proxy.dropped).toBeGreaterThan(0);
    await expectReadModelsEqualTheStream();
    expect(await deadLetters()).toBe(0);
    // The retries were logged while they lasted, with how long and the last error.
    const retrying = logged('partition retrying through an outage');
    expect(retrying.some((l) => (l.failingForMs as number) >= 4000)).toBe(true);
    expect(retrying.every((l) => (l.lastError as { code: string }).code === 'TIMEOUT')).toBe(true);
    expect(logged('partition applying again').length).toBeGreaterThan(0);
    // Caught up: no lag left, every worker ready.
    expect(max(await gauge('cb_projection_oldest_unapplied_age_seconds'))).toBe(0);
    expect(max(await gauge('cb_projection_failing_seconds'))).toBe(0);
    for (const w of workers) expect((await ready(w)).status).toBe(200);
  });

  it('a nats-server frozen (SIGSTOP) for 6 s mid-batch: nothing dead-lettered, /ready answers 503 within a second meanwhile', async () => {
    await waitBalanced();
    await generator.run(1000);
    process.kill(h.nats.pid!, 'SIGSTOP');
    try {
      const frozen = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      for (const w of workers) {
        const r = await ready(w);
        expect(r).toMatchObject({ status: 503, checks: { jetStreamAnswers: false } });
        expect(r.ms).toBeLessThan(1000);
      }
      await new Promise((r) => setTimeout(r, FREEZE_MS - (Date.now() - frozen)));
    } finally {
      process.kill(h.nats.pid!, 'SIGCONT');
    }
    await generator.run(500);

    await expectReadModelsEqualTheStream();
    expect(await deadLetters()).toBe(0);
    for (const w of workers) expect((await ready(w)).status).toBe(200);
  });
});
