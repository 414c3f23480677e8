import { loadFixtureWorkflow, waitFor, type ServiceWithOps, type TestCluster } from '@cb/testing';
import { type E2eStack, startE2eStack } from './stack';

/*
 * Issue 11's acceptance, against a real 3-node cluster of the nats-server the tests run (2.9.10
 * here), R3 streams and buckets, one command service, two projection workers, one gateway:
 * 16 clients, each owning its tokens and keeping a model of them, fire with an Idempotency-Key
 * per fire (a 5xx is sent again with the same key, as a client would), while the event stream's
 * leader is SIGKILLed and later restarted on its store. Then every 2xx fire is in history exactly
 * once, token documents, place index and stats equal the clients' model, nothing is
 * dead-lettered, the If-Match test passes before and after the kill, and the number of consumers
 * on the cluster is what it was.
 */

jest.setTimeout(300_000);

const WF = 'document_review';
const IF_MATCH_WF = 'document_review_if_match';
const CLIENTS = 16;
const TOKENS_PER_CLIENT = 2;
/** submit → review → reject → revise → submit …: a token can fire for ever, no final place. */
const CYCLE = [
  { transition: 'submit', to: 'pending_review' },
  { transition: 'review', to: 'reviewed' },
  { transition: 'reject', to: 'rejected' },
  { transition: 'revise', to: 'draft' },
] as const;

let stack: E2eStack<TestCluster>;
const call: E2eStack['call'] = (...args) => stack.call(...args);

interface ModelToken {
  id: string;
  place: string;
  version: number;
  /** Transitions fired (2xx), in order. */
  fired: string[];
  step: number;
}

interface Clock {
  /** Successful fires: when each answered (ms since the load started). */
  ok: number[];
  /** Every 5xx answer, by status and code. */
  errors: Map<string, number>;
}

beforeAll(async () => {
  stack = await startE2eStack(
    {
      LOG_LEVEL: 'warn',
      // A fire waits out a hand-over or an election rather than failing at once.
      COMMAND_TIMEOUT_MS: '5000',
      // Reads with minSeq wait for the projections to catch up after the election.
      MIN_SEQ_WAIT_MS: '30000',
    },
    { cluster: 3, projectionWorkers: 2, workflows: ['document-review'] },
  );
  const copy = { ...loadFixtureWorkflow('document-review'), id: IF_MATCH_WF };
  expect((await call('POST', '/v1/workflows', copy)).status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

/**
 * 30 concurrent fires with the same If-Match: exactly 1 × 200 and 29 × 412, one event; 30
 * concurrent submits without it: one event.
 */
async function ifMatchExact(): Promise<void> {
  const created = await call<{ id: string; version: number }>(
    'POST',
    `/v1/workflows/${IF_MATCH_WF}/tokens`,
    {},
  );
  expect(created.status).toBe(201);
  const { id, version } = created.body;
  const answers = await Promise.all(
    Array.from({ length: 30 }, () =>
      call(
        'POST',
        `/v1/workflows/${IF_MATCH_WF}/tokens/${id}/fire`,
        { transition: 'submit' },
        { 'if-match': `"${version}"` },
      ),
    ),
  );
  const statuses = answers.map((a) => a.status);
  expect({
    ok: statuses.filter((s) => s === 200).length,
    stale: statuses.filter((s) => s === 412).length,
  }).toEqual({ ok: 1, stale: 29 });
  expect(await stack.countOn(stack.naming.tokenSubject('default', IF_MATCH_WF, id))).toBe(2);

  // And without If-Match: 30 concurrent submits of a fresh token make exactly one event.
  const other = await call<{ id: string }>('POST', `/v1/workflows/${IF_MATCH_WF}/tokens`, {});
  const submits = await Promise.all(
    Array.from({ length: 30 }, () =>
      call('POST', `/v1/workflows/${IF_MATCH_WF}/tokens/${other.body.id}/fire`, {
        transition: 'submit',
      }),
    ),
  );
  expect(submits.filter((a) => a.status === 200)).toHaveLength(1);
  expect(
    await stack.countOn(stack.naming.tokenSubject('default', IF_MATCH_WF, other.body.id)),
  ).toBe(2);
}

/** Every consumer on every stream of this deployment. */
async function consumers(): Promise<number> {
  let total = 0;
  for await (const info of stack.jsm.streams.list()) {
    const name = info.config.name;
    const ours =
      name === stack.naming.stream ||
      name === stack.naming.deadLetterStream ||
      name.startsWith(stack.naming.kvStreamNamePrefix);
    if (ours) total += info.state.consumer_count;
  }
  return total;
}

/** One client: fires its tokens' next transitions until `running()` is false. */
async function client(
  tokens: ModelToken[],
  clock: Clock,
  started: number,
  running: () => boolean,
): Promise<void> {
  for (let round = 0; running(); round++) {
    for (const t of tokens) {
      const step = CYCLE[t.step % CYCLE.length]!;
      const key = `${t.id}-${t.step}`;
      // A 5xx may or may not have written the event: the same key again tells, exactly once.
      for (;;) {
        const res = await call<{ version: number; place: string; code?: string }>(
          'POST',
          `/v1/workflows/${WF}/tokens/${t.id}/fire`,
          { transition: step.transition },
          { 'idempotency-key': key },
        );
        if (res.status === 200) {
          expect(res.body.place).toBe(step.to);
          t.place = step.to;
          t.version = res.body.version;
          t.fired.push(step.transition);
          t.step++;
          clock.ok.push(performance.now() - started);
          break;
        }
        const label = `${res.status} ${String(res.body?.code)}`;
        if (res.status < 500) throw new Error(`fire answered ${label}: ${res.text}`);
        clock.errors.set(label, (clock.errors.get(label) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

function rate(ok: number[], from: number, to: number): number {
  return ok.filter((t) => t >= from && t < to).length / ((to - from) / 1000);
}

/** The longest stretch without a successful fire between `from` and `to`. */
function longestPause(ok: number[], from: number, to: number): number {
  const inside = ok.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let longest = 0;
  let previous = from;
  for (const t of inside) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return Math.max(longest, to - previous);
}

describe('issue 11, acceptance on a 3-node cluster', () => {
  it('loses no acknowledged fire, counts none twice, dead-letters nothing, and keeps If-Match exact across a leader kill', async () => {
    await ifMatchExact();

    const all: ModelToken[] = [];
    for (let i = 0; i < CLIENTS * TOKENS_PER_CLIENT; i++) {
      const res = await call<{ id: string; version: number }>(
        'POST',
        `/v1/workflows/${WF}/tokens`,
        {
          id: `acc-${i}`,
        },
      );
      expect(res.status).toBe(201);
      all.push({ id: res.body.id, place: 'draft', version: res.body.version, fired: [], step: 0 });
    }
    // Let lease rounds and watches settle before counting consumers.
    await new Promise((r) => setTimeout(r, 2000));
    const consumersBefore = await consumers();

    const clock: Clock = { ok: [], errors: new Map() };
    const started = performance.now();
    let running = true;
    // /ready of the gateway and the command service, sampled throughout: bounded, and truthful.
    const readiness: Array<{ service: string; at: number; ms: number; status: number }> = [];
    const sample = async (service: string, url: string): Promise<void> => {
      while (running) {
        const t0 = performance.now();
        const status = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(
          (r) => r.status,
          () => 0,
        );
        readiness.push({ service, at: t0 - started, ms: performance.now() - t0, status });
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const sampling = Promise.all([
      sample('gateway', `${stack.baseUrl}/ready`),
      sample('command', `${(stack.command as ServiceWithOps).opsUrl}/ready`),
    ]);
    const clients = Array.from({ length: CLIENTS }, (_, c) =>
      client(
        all.slice(c * TOKENS_PER_CLIENT, (c + 1) * TOKENS_PER_CLIENT),
        clock,
        started,
        () => running,
      ),
    );

    await new Promise((r) => setTimeout(r, 6000));
    const leaderName = await stack.nats.waitForLeader(stack.naming.stream, 10_000);
    const leader = stack.nats.node(leaderName);
    const killedAt = performance.now() - started;
    await leader.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 12_000));
    const restartedAt = performance.now() - started;
    await leader.restart();
    await stack.nats.waitForHealthy(60_000);
    await new Promise((r) => setTimeout(r, 6000));
    running = false;
    await Promise.all([...clients, sampling]);
    const endedAt = performance.now() - started;
    // Only coded 503s (nothing written) and 504s (unknown, settled by the retry) — never a 500.
    expect([...clock.errors.keys()].filter((k) => !/^50[34] [A-Z_]+$/.test(k))).toEqual([]);

    // Every 2xx fire in history exactly once, in order.
    for (const t of all) {
      const history = await call<{
        items: Array<{ event: { type: string; transition?: string } }>;
      }>('GET', `/v1/workflows/${WF}/tokens/${t.id}/history`);
      expect(history.status).toBe(200);
      const fired = history.body.items
        .filter((i) => i.event.type === 'token.transitioned.v1')
        .map((i) => i.event.transition);
      expect({ token: t.id, fired }).toEqual({ token: t.id, fired: t.fired });
    }

    // Token documents, the place index and the stats equal the model, once projected.
    const last = Math.max(...all.map((t) => t.version));
    for (const t of all) {
      const doc = await call<{ place: string; version: number }>(
        'GET',
        `/v1/workflows/${WF}/tokens/${t.id}?minSeq=${last}`,
      );
      expect({
        id: t.id,
        status: doc.status,
        place: doc.body.place,
        version: doc.body.version,
      }).toEqual({
        id: t.id,
        status: 200,
        place: t.place,
        version: t.version,
      });
    }
    const places = [...new Set(CYCLE.map((s) => s.to))];
    for (const place of places) {
      const listed: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await call<{ items: Array<{ id: string }>; nextCursor?: string }>(
          'GET',
          `/v1/workflows/${WF}/tokens?place=${place}&limit=100&minSeq=${last}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        listed.push(...page.body.items.map((i) => i.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect({ place, tokens: listed.sort() }).toEqual({
        place,
        tokens: all
          .filter((t) => t.place === place)
          .map((t) => t.id)
          .sort(),
      });
    }
    const stats = await call<{
      places: Record<string, number>;
      transitions: Record<string, number>;
    }>('GET', `/v1/workflows/${WF}/stats?minSeq=${last}`);
    expect(stats.status).toBe(200);
    const byPlace: Record<string, number> = {};
    const byTransition: Record<string, number> = {};
    for (const t of all) {
      byPlace[t.place] = (byPlace[t.place] ?? 0) + 1;
      for (const f of t.fired) byTransition[f] = (byTransition[f] ?? 0) + 1;
    }
    for (const place of ['draft', ...places]) {
      expect({ place, count: stats.body.places[place] ?? 0 }).toEqual({
        place,
        count: byPlace[place] ?? 0,
      });
    }
    for (const { transition } of CYCLE) {
      expect({ transition, count: stats.body.transitions[transition] ?? 0 }).toEqual({
        transition,
        count: byTransition[transition] ?? 0,
      });
    }

    // /ready answered within its bound throughout, said "not ready" while the stream had no
    // leader, and "ready" again once it had.
    expect(Math.max(...readiness.map((r) => r.ms))).toBeLessThan(2000);
    for (const service of ['gateway', 'command']) {
      const mine = readiness.filter((r) => r.service === service);
      expect(
        mine.filter((r) => r.at > killedAt && r.at < killedAt + 3000).some((r) => r.status === 503),
      ).toBe(true);
      expect(mine.at(-1)?.status).toBe(200);
    }

    // Nothing dead-lettered.
    const dlq = await stack.jsm.streams.info(stack.naming.deadLetterStream);
    expect(dlq.state.messages).toBe(0);

    // If-Match exact after the kill, too; consumers on the cluster as they were.
    await ifMatchExact();
    const consumersAfter = await waitFor(
      async () => {
        const n = await consumers();
        return n === consumersBefore ? n : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: `consumers back to ${consumersBefore}` },
    );
    expect(consumersAfter).toBe(consumersBefore);

    const pause = longestPause(clock.ok, killedAt, restartedAt);
    const report = [
      `leader ${leaderName} SIGKILLed at ${(killedAt / 1000).toFixed(1)} s, restarted at ${(restartedAt / 1000).toFixed(1)} s`,
      `write pause ${(pause / 1000).toFixed(1)} s`,
      `5xx answers (then sent again with the same key): ${[...clock.errors].map(([k, v]) => `${v} × ${k}`).join(', ') || 'none'}`,
      `fires/s before ${rate(clock.ok, 1000, killedAt).toFixed(0)}, during (kill to restart) ${rate(clock.ok, killedAt, restartedAt).toFixed(0)}, after ${rate(clock.ok, restartedAt, endedAt).toFixed(0)}`,
      `${clock.ok.length} acknowledged fires; consumers ${consumersBefore} before and after`,
      `slowest /ready ${Math.max(...readiness.map((r) => r.ms)).toFixed(0)} ms`,
    ];
    process.stdout.write(`cluster acceptance: ${report.join('; ')}\n`);
    expect(clock.ok.length).toBeGreaterThan(100);
  });
});
