import type { TestCluster } from '@cb/testing';
import { waitFor } from '@cb/testing';
import { startE2eStack, type E2eStack } from './stack';

jest.setTimeout(180_000);

/**
 * The services as processes on a real 3-node JetStream cluster (`startE2eStack` with
 * `cluster: 3`): every stream and bucket is R3, and losing the event stream's leader pauses
 * writes for the election only.
 */
let stack: E2eStack<TestCluster>;

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn', COMMAND_TIMEOUT_MS: '3000' },
    { cluster: 3, projectionWorkers: 1, workflows: ['document-review'] },
  );
});

afterAll(async () => {
  await stack?.stop();
});

const tokens = '/v1/workflows/document_review/tokens';

describe('the stack on a 3-node cluster (startE2eStack cluster: 3)', () => {
  it('connects every service to all nodes and keeps every stream and bucket on three replicas', async () => {
    expect(stack.env['NATS_URL']).toBe(stack.nats.url);
    expect(stack.env['NATS_URL']!.split(',')).toHaveLength(3);
    expect(stack.env['CB_STREAM_REPLICAS']).toBe('3');
    const created = await stack.call<{ version: number }>('POST', tokens, { id: 'c-1' });
    expect(created.status).toBe(201);
    const fired = await stack.call<{ version: number; place: string }>(
      'POST',
      `${tokens}/c-1/fire`,
      { transition: 'submit' },
    );
    expect(fired).toMatchObject({ status: 200, body: { place: 'pending_review' } });
    const strong = await stack.call(`GET`, `${tokens}/c-1?consistency=strong`);
    expect(strong).toMatchObject({ status: 200, body: { version: fired.body.version } });
    const projected = await waitFor(
      async () => {
        const res = await stack.call('GET', `/v1/tokens/c-1?minSeq=${fired.body.version}`);
        return res.status === 200 ? res : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, description: 'c-1 projected' },
    );
    expect(projected.body).toMatchObject({ version: fired.body.version, place: 'pending_review' });

    const ours = [stack.naming.stream, stack.naming.deadLetterStream];
    const replicas = new Map<string, number>();
    for await (const info of stack.jsm.streams.list()) {
      const name = info.config.name;
      if (ours.includes(name) || name.startsWith(stack.naming.kvStreamNamePrefix)) {
        replicas.set(name, info.config.num_replicas);
      }
    }
    // Event and dead-letter streams, meta, idempotency, projector and the read-model buckets.
    expect(replicas.size).toBeGreaterThanOrEqual(8);
    expect([...replicas].filter(([, r]) => r !== 3)).toEqual([]);
  });

  it('SIGKILL of the event stream leader: writes pause for the election, coded 503/504 meanwhile, then go on; the node rejoins', async () => {
    const leader = stack.nats.node(await stack.nats.waitForLeader(stack.naming.stream, 5000));
    const statuses = new Map<string, number>();
    let n = 0;
    const patch = async (): Promise<number> => {
      const res = await stack.call<{ code?: string }>('PATCH', `${tokens}/c-1`, {
        data: { n: n++ },
      });
      const key = res.status === 200 ? '200' : `${res.status} ${res.body?.code}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      return res.status;
    };
    expect(await patch()).toBe(200);
    const t0 = performance.now();
    await leader.kill('SIGKILL');
    await waitFor(async () => (await patch()) === 200, {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'a write to succeed after the kill',
    });
    const pauseMs = performance.now() - t0;
    const failures = [...statuses.keys()].filter((k) => k !== '200');
    expect(failures.filter((k) => !/^50[34] [A-Z_]+$/.test(k))).toEqual([]);

    await leader.restart();
    await stack.nats.waitForHealthy(30_000);
    expect(await patch()).toBe(200);
    const strong = await stack.call<{ data: { n: number } }>(
      'GET',
      `${tokens}/c-1?consistency=strong`,
    );
    expect(strong.body.data.n).toBe(n - 1);
    process.stdout.write(
      `event stream leader ${leader.name} SIGKILLed: writes again after ${Math.round(pauseMs)} ms ` +
        `(${[...statuses].map(([k, v]) => `${v} × ${k}`).join(', ')})\n`,
    );
  });
});
