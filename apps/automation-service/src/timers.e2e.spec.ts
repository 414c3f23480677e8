import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { decodeEvent } from '@cb/nats';
import type { TokenEvent } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import {
  adminAuthorization,
  deploymentEnv,
  startAutomationWorker,
  startServiceStack,
  startTestNats,
  stopAll,
  uniqueNaming,
  waitFor,
  type ServiceStack,
  type ServiceWithOps,
  type TestNats,
} from '@cb/testing';

jest.setTimeout(180_000);

/** Issue 15: timed transitions fire by themselves, exactly once, and survive the worker. */
describe('automation timers (services as processes)', () => {
  let nats: TestNats;
  let naming: Naming;
  let env: Record<string, string>;
  let stack: ServiceStack;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const workers: ServiceWithOps[] = [];

  const call = async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${stack.gatewayUrl}${path}`, {
      method,
      headers: { ...adminAuthorization(env), 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  const define = async (
    id: string,
    expire: { after: string } | { at: string },
    guard?: Record<string, unknown>,
  ): Promise<void> => {
    const res = await call('POST', '/v1/workflows', {
      id,
      name: id,
      places: ['waiting', 'expired', 'moved'],
      initialPlace: 'waiting',
      finalPlaces: ['expired', 'moved'],
      transitions: [
        { id: 'expire', from: ['waiting'], to: 'expired', ...expire, ...(guard ? { guard } : {}) },
        { id: 'move', from: ['waiting'], to: 'moved' },
      ],
    });
    expect(res.status).toBe(201);
  };

  const create = async (
    workflowId: string,
    id: string,
    data: Record<string, unknown> = {},
  ): Promise<{ placeEnteredAt: string }> => {
    const res = await call('POST', `/v1/workflows/${workflowId}/tokens`, { id, data });
    expect(res.status).toBe(201);
    return res.body as { placeEnteredAt: string };
  };

  /** Events per token of a workflow, read from the stream (nothing consumed). */
  const eventCounts = async (workflowId: string): Promise<Map<string, number>> => {
    const filter = `${naming.prefix}.tok.*.*.${workflowId}.*`;
    const info = await jsm.streams.info(naming.stream, { subjects_filter: filter });
    const counts = new Map<string, number>();
    for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
      counts.set(subject.slice(subject.lastIndexOf('.') + 1), n);
    }
    return counts;
  };

  const lastEvent = async (workflowId: string, tokenId: string): Promise<TokenEvent> => {
    const subject = naming.tokenSubject('default', workflowId, tokenId);
    const m = await jsm.streams.getMessage(naming.stream, { last_by_subj: subject });
    const d = decodeEvent(m!.data);
    if (!d.ok || d.event.type === 'workflow.defined.v1') throw new Error('not a token event');
    return d.event;
  };

  /** Waits until every token has `events` events; fails at once when one has more. */
  const waitAllAt = async (
    workflowId: string,
    tokens: number,
    events: number,
    timeoutMs: number,
  ): Promise<Map<string, number>> =>
    waitFor(
      async () => {
        const counts = await eventCounts(workflowId);
        const over = [...counts].filter(([, n]) => n > events);
        if (over.length > 0) throw new Error(`fired twice: ${JSON.stringify(over.slice(0, 5))}`);
        const done = [...counts.values()].filter((n) => n === events).length;
        return done === tokens ? counts : undefined;
      },
      { timeoutMs, intervalMs: 100, description: `${tokens} tokens at ${events} events` },
    );

  const metric = async (worker: ServiceWithOps, name: string): Promise<number> => {
    const text = await (await fetch(`${worker.opsUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  const startWorker = async (): Promise<ServiceWithOps> => {
    const worker = await startAutomationWorker(env);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    nats = await startTestNats();
    naming = uniqueNaming();
    env = deploymentEnv(nats.url, naming, { AUTOMATION_LEASE_TTL_MS: '2000' });
    stack = await startServiceStack(env, { projectionWorkers: 1 });
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
    await startWorker();
  });

  afterAll(async () => {
    await nc?.close();
    await stopAll(workers);
    await stack?.stop();
    await nats?.dispose();
  });

  it('a 2 s timer fires once, within 1 s of due, as the system with triggeredBy "timer"', async () => {
    await define('two_seconds', { after: 'PT2S' });
    const token = await create('two_seconds', 'soon');
    const dueMs = Date.parse(token.placeEnteredAt) + 2000;
    // Read strongly: the token read shows its pending timer once the worker armed it.
    const shown = await waitFor(
      async () => {
        const read = await call('GET', '/v1/workflows/two_seconds/tokens/soon?consistency=strong');
        return read.body['timers'] as unknown[] | undefined;
      },
      { timeoutMs: 1500, description: 'the timer on the token read' },
    );
    expect(shown).toEqual([{ transition: 'expire', dueAt: new Date(dueMs).toISOString() }]);
    // …and so does a read of the read model, once the projection has the token.
    const projected = await waitFor(
      async () => {
        const read = await call('GET', '/v1/workflows/two_seconds/tokens/soon');
        return read.status === 200 ? (read.body['timers'] as unknown[] | undefined) : undefined;
      },
      { timeoutMs: 1500, description: 'the timer on the read-model read' },
    );
    expect(projected).toEqual(shown);
    await waitAllAt('two_seconds', 1, 2, 10_000);
    const fired = await lastEvent('two_seconds', 'soon');
    expect(fired.type).toBe('token.transitioned.v1');
    expect(fired.state.place).toBe('expired');
    expect(fired.state.lastTransition?.id).toBe('expire');
    expect(fired.triggeredBy).toBe('timer');
    expect(fired.principal).toEqual({ tenant: 'default', keyId: 'system' });
    const lateMs = Date.parse(fired.state.lastTransition!.at) - dueMs;
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThanOrEqual(1000);
    // Well past due: still exactly one fire.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await eventCounts('two_seconds')).get('soon')).toBe(2);
  });

  it('a token moved before due is not fired', async () => {
    await define('moved_first', { after: 'PT2S' });
    await create('moved_first', 'mover');
    const moved = await call('POST', '/v1/workflows/moved_first/tokens/mover/fire', {
      transition: 'move',
    });
    expect(moved.status).toBe(200);
    await new Promise((r) => setTimeout(r, 3500));
    expect((await eventCounts('moved_first')).get('mover')).toBe(2);
    expect((await lastEvent('moved_first', 'mover')).state.place).toBe('moved');
  });

  it('a guard failing at due time is shown on the timer, counted, and tried again when the data changes', async () => {
    const ready = { type: 'object', properties: { data: { required: ['ready'] } } };
    await define('guarded', { after: 'PT1S' }, ready);
    await create('guarded', 'waits');
    const refused = await waitFor(
      async () => {
        const read = await call('GET', '/v1/workflows/guarded/tokens/waits?consistency=strong');
        const timers = read.body['timers'] as Array<{ lastError?: string }> | undefined;
        return timers?.[0]?.lastError;
      },
      { timeoutMs: 5000, description: 'lastError on the timer' },
    );
    expect(refused).toMatch(/^GUARD_FAILED: /);
    expect(await metric(workers[0]!, 'cb_automation_timers_refused_total{reason="guard"}')).toBe(1);
    expect((await eventCounts('guarded')).get('waits')).toBe(1);
    const patched = await call('PATCH', '/v1/workflows/guarded/tokens/waits', {
      data: { ready: true },
    });
    expect(patched.status).toBe(200);
    await waitAllAt('guarded', 1, 3, 5000);
    expect((await lastEvent('guarded', 'waits')).state.place).toBe('expired');
  });

  it('1,000 timers due at the same second all fire, none twice', async () => {
    await define('same_second', { at: '/data/dueAt' });
    const dueAt = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000).toISOString();
    const ids = Array.from({ length: 1000 }, (_, i) => `same-${i}`);
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(ids.slice(i, i + 25).map((id) => create('same_second', id, { dueAt })));
    }
    expect(Date.now()).toBeLessThan(Date.parse(dueAt));
    await waitAllAt('same_second', 1000, 2, Date.parse(dueAt) - Date.now() + 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const counts = await eventCounts('same_second');
    expect([...counts.values()].every((n) => n === 2)).toBe(true);
    expect(counts.size).toBe(1000);
    // How late they fired (reported, not asserted: 1,000 at once is not light load).
    const late = await Promise.all(
      ids.map(async (id) => {
        const fired = await lastEvent('same_second', id);
        expect(fired.triggeredBy).toBe('timer');
        return Date.parse(fired.state.lastTransition!.at) - Date.parse(dueAt);
      }),
    );
    late.sort((a, b) => a - b);
    process.stdout.write(
      `1,000 timers due at one second fired ${late[0]}–${late.at(-1)} ms after due (p50 ${late[500]}, p99 ${late[990]} ms)\n`,
    );
  });

  it('the worker SIGKILLed with timers due: after a restart each fires exactly once', async () => {
    await define('killed', { at: '/data/dueAt' });
    // Due one every 10 ms over 2 s, from 4 s on; killed halfway: some fired, some in flight,
    // some not due yet.
    const first = Date.now() + 4000;
    const dueAt = (i: number): string => new Date(first + i * 10).toISOString();
    const ids = Array.from({ length: 200 }, (_, i) => `kill-${i}`);
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(
        ids.slice(i, i + 25).map((id, j) => create('killed', id, { dueAt: dueAt(i + j) })),
      );
    }
    await new Promise((r) => setTimeout(r, Math.max(0, first + 1000 - Date.now())));
    const killed = workers.shift()!;
    killed.kill('SIGKILL');
    await killed.waitExit(5000);
    const firedBefore = [...(await eventCounts('killed')).values()].filter((n) => n === 2).length;
    await startWorker();
    await waitAllAt('killed', 200, 2, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect([...(await eventCounts('killed')).values()].every((n) => n === 2)).toBe(true);
    expect(firedBefore).toBeGreaterThan(0);
    expect(firedBefore).toBeLessThan(200);
  });

  it('two workers share the partitions and the timers', async () => {
    const second = await startWorker();
    const owned = async (w: ServiceWithOps): Promise<number[]> =>
      ((await (await fetch(`${w.opsUrl}/health`)).json()) as { owned: number[] }).owned;
    await waitFor(
      async () => {
        const [a, b] = await Promise.all(workers.map(owned));
        return a!.length > 0 && b!.length > 0 && a!.length + b!.length === naming.partitions;
      },
      { timeoutMs: 15_000, description: 'both workers own partitions' },
    );
    const firedBefore = await Promise.all(
      workers.map((w) => metric(w, 'cb_automation_timers_fired_total')),
    );
    await define('shared', { at: '/data/dueAt' });
    const dueAt = new Date(Date.now() + 3000).toISOString();
    const ids = Array.from({ length: 100 }, (_, i) => `shared-${i}`);
    await Promise.all(ids.map((id) => create('shared', id, { dueAt })));
    await waitAllAt('shared', 100, 2, 15_000);
    const firedAfter = await Promise.all(
      workers.map((w) => metric(w, 'cb_automation_timers_fired_total')),
    );
    const byWorker = firedAfter.map((n, i) => n - firedBefore[i]!);
    // Said with who owned what, so a failure tells a lease hand-over from a timer gone astray.
    const ownedAfter = await Promise.all(workers.map(owned));
    expect({ byWorker, ownedAfter, everyWorkerFired: byWorker.every((n) => n > 0) }).toMatchObject({
      everyWorkerFired: true,
    });
    expect(byWorker.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(100);
    expect(second.running).toBe(true);
  });
});
