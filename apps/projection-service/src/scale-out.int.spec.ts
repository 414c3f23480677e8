import { decodeJson } from '@cb/nats';
import type { Lease } from '@cb/schemas';
import { waitFor } from '@cb/testing';
import { startHarness, startWorker, TEST_SETTINGS, type Harness } from './testing/harness';
import type { ProjectionWorker } from './worker';

jest.setTimeout(60_000);

describe('scale-out by partition leases', () => {
  let h: Harness;
  const workers: ProjectionWorker[] = [];

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await h?.dispose();
  });

  /** Owner of every item of generation 1, from the lease keys themselves. */
  async function owners(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const item of [
      ...Array.from({ length: h.naming.partitions }, (_, p) => p),
      'definitions' as const,
    ]) {
      const e = await h.projectorKv.get(h.naming.leaseKey(1, item));
      const lease = e?.operation === 'PUT' ? (decodeJson(e.value) as Lease) : undefined;
      if (lease && lease.expiresAt > Date.now())
        out.set(lease.owner, (out.get(lease.owner) ?? 0) + 1);
    }
    return out;
  }

  it('a second worker ends up with about half the partitions; stopping it hands them back', async () => {
    const a = startWorker(h, { workerId: 'worker-a' });
    workers.push(a);
    await a.start();
    await waitFor(async () => (await owners()).get('worker-a') === 9, {
      timeoutMs: 10_000,
      description: 'a to own all 9 items',
    });

    const b = startWorker(h, { workerId: 'worker-b' });
    workers.push(b);
    await b.start();
    await waitFor(
      async () => {
        const o = await owners();
        const na = o.get('worker-a') ?? 0;
        const nb = o.get('worker-b') ?? 0;
        return na + nb === 9 && na >= 4 && nb >= 4;
      },
      { timeoutMs: 20_000, description: 'a and b to share the 9 items about evenly' },
    );
    expect(a.owned.length + b.owned.length).toBe(9);

    const stoppedAt = Date.now();
    await b.stop();
    await waitFor(async () => (await owners()).get('worker-a') === 9, {
      timeoutMs: TEST_SETTINGS.leaseTtlMs * 4,
      description: 'a to own everything again',
    });
    // Handed back within the lease time (a clean stop releases at once, after the ack wait).
    expect(Date.now() - stoppedAt).toBeLessThan(TEST_SETTINGS.leaseTtlMs * 3);
  });
});
