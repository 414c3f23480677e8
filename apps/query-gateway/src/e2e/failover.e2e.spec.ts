import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { decodeJson } from '@cb/nats';
import type { Lease } from '@cb/schemas';
import { waitFor } from '@cb/testing';
import { startE2eStack, type E2eStack } from './stack';

/*
 * Issue 14, deliverable 4, against the services as processes with their defaults: reads with
 * minSeq wait through a projection worker's takeover. A token written right after the worker
 * that owned its partition was SIGKILLed reads fresh (200, never 503 PROJECTION_LAGGING): the
 * other worker takes the partition over once the lease expires (PROJECTION_LEASE_TTL_MS, 2.5 s),
 * well within MIN_SEQ_WAIT_MS (10 s).
 */

jest.setTimeout(120_000);

let stack: E2eStack;

beforeAll(async () => {
  stack = await startE2eStack({}, { projectionWorkers: 2, workflows: ['document-review'] });
});

afterAll(async () => {
  await stack?.stop();
});

/** The token partitions whose projection leases a worker process holds (ids carry the pid). */
async function partitionsOf(pid: number): Promise<number[]> {
  const kv = await new Kvm(jetstream(stack.nc)).open(stack.naming.projectorBucket);
  const owned: number[] = [];
  for (let p = 0; p < stack.naming.partitions; p++) {
    const entry = await kv.get(stack.naming.leaseKey(1, p));
    const lease = entry?.operation === 'PUT' ? (decodeJson(entry.value) as Lease) : undefined;
    if (lease?.owner.includes(`-${pid}-`)) owned.push(p);
  }
  return owned;
}

describe('issue 14, deliver 4: reads with minSeq wait through a takeover', () => {
  it('a token written right after its partition’s worker was SIGKILLed reads fresh, by id and in its place', async () => {
    const [victim, survivor] = stack.projections;
    let owned: number[] = [];
    await waitFor(
      async () => {
        owned = await partitionsOf(victim!.pid);
        return owned.length > 0 && (await partitionsOf(survivor!.pid)).length > 0;
      },
      { timeoutMs: 20_000, description: 'both workers own partitions' },
    );
    let n = 0;
    while (!owned.includes(stack.naming.tokenPartition(`failover-${n}`))) n++;
    const id = `failover-${n}`;

    const killed = Date.now();
    victim!.kill('SIGKILL');
    const created = await stack.call<{ version: number; place: string }>(
      'POST',
      '/v1/workflows/document_review/tokens',
      { id },
    );
    expect(created.status).toBe(201);
    const minSeq = created.body.version;
    const [byId, list] = await Promise.all([
      stack.call<{ id: string; version: number }>('GET', `/v1/tokens/${id}?minSeq=${minSeq}`),
      stack.call<{ items: Array<{ id: string }> }>(
        'GET',
        `/v1/workflows/document_review/tokens?place=${created.body.place}&minSeq=${minSeq}&limit=1000`,
      ),
    ]);
    const waitedMs = Date.now() - killed;
    process.stdout.write(
      `minSeq reads issued right after a SIGKILL answered ${byId.status} and ${list.status} ${waitedMs} ms after the kill\n`,
    );
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({ id, version: minSeq });
    expect(list.status).toBe(200);
    expect(list.body.items.map((t) => t.id)).toContain(id);
    expect(await partitionsOf(survivor!.pid)).toContain(stack.naming.tokenPartition(id));
  });
});
