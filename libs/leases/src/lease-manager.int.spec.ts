import { kvStreamName } from '@cb/subjects';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { createLogger } from '@cb/logging';
import { startTestNats, waitFor, type TestNats } from '@cb/testing';
import { LeaseManager, type LeaseItem } from './lease-manager';

jest.setTimeout(60_000);

const logger = createLogger({ service: 'leases-spec', level: 'silent' });
const ITEMS: LeaseItem[] = [0, 1, 2, 3, 4, 5, 'definitions'];
const TTL_MS = 1000;

let nats: TestNats;
let nc: NatsConnection;
let kv: KV;
let bucket: string;
const managers: LeaseManager[] = [];

beforeAll(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

let n = 0;
beforeEach(async () => {
  bucket = `leases_${++n}`;
  kv = await new Kvm(jetstream(nc)).create(bucket, { history: 1 });
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

function manager(
  owned: Set<LeaseItem>,
  workerId?: string,
  onRevoke: (item: LeaseItem, reason: string) => Promise<void> = async () => undefined,
  tuning: { ttlMs?: number; share?: number } = {},
): LeaseManager {
  const m = new LeaseManager({
    kv,
    items: ITEMS,
    keys: { lease: (i) => `lease.${i}`, worker: (id) => `worker.${id}`, workers: 'worker.*' },
    generation: 1,
    ttlMs: tuning.ttlMs ?? TTL_MS,
    logger,
    ...(workerId ? { workerId } : {}),
    ...(tuning.share !== undefined ? { share: () => tuning.share! } : {}),
    onAcquire: (item) => owned.add(item),
    onRevoke: async (item, reason) => {
      await onRevoke(item, reason);
      owned.delete(item);
    },
  });
  managers.push(m);
  m.start();
  return m;
}

async function consumersOnBucket(): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(kvStreamName(bucket))).state.consumer_count;
}

describe('LeaseManager', () => {
  it('shares the items fairly between workers and takes a stopped worker’s share back', async () => {
    const a = new Set<LeaseItem>();
    const b = new Set<LeaseItem>();
    manager(a, 'worker-a');
    const mb = manager(b, 'worker-b');
    await waitFor(() => a.size + b.size === ITEMS.length && a.size >= 3 && b.size >= 3, {
      timeoutMs: 10_000,
    });
    expect([...a].filter((i) => b.has(i))).toEqual([]);
    await mb.stop();
    managers.splice(managers.indexOf(mb), 1);
    await waitFor(() => a.size === ITEMS.length, { timeoutMs: 10_000 });
  });

  it('issue 11, measured: lease rounds create no consumers (one heartbeat watch per worker, for good)', async () => {
    const a = new Set<LeaseItem>();
    const b = new Set<LeaseItem>();
    manager(a);
    manager(b);
    await waitFor(() => a.size + b.size === ITEMS.length, { timeoutMs: 10_000 });
    const settled = await consumersOnBucket();
    expect(settled).toBe(2);
    // About 20 lease rounds each.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect(await consumersOnBucket()).toBe(settled);
    }
  });

  it('keeps renewing its other leases while a slow hand-over finishes', async () => {
    const a = new Set<LeaseItem>();
    const b = new Set<LeaseItem>();
    const reasons: string[] = [];
    // Handing a partition over takes 2.5 lease lifetimes (a batch finishing through an outage).
    manager(a, 'worker-a', async (_item, reason) => {
      reasons.push(reason);
      if (reason === 'rebalance') await new Promise((r) => setTimeout(r, 2.5 * TTL_MS));
    });
    await waitFor(() => a.size === ITEMS.length, { timeoutMs: 10_000 });
    manager(b, 'worker-b');
    await waitFor(() => a.size + b.size === ITEMS.length && b.size >= 3, { timeoutMs: 15_000 });
    expect(reasons.filter((r) => r === 'lost')).toEqual([]);
    expect(a.size).toBeGreaterThanOrEqual(3);
  });

  it('takes over the leases of a worker that died (stopped renewing) once they expire', async () => {
    const a = new Set<LeaseItem>();
    const dead = new Set<LeaseItem>();
    const ma = manager(a, 'worker-a');
    await waitFor(() => a.size === ITEMS.length, { timeoutMs: 10_000 });
    // A worker that died: its heartbeat and leases stay in KV until they expire.
    await ma.stop();
    managers.splice(managers.indexOf(ma), 1);
    const now = Date.now();
    for (const item of ITEMS) {
      await kv.put(
        `lease.${item}`,
        new TextEncoder().encode(
          JSON.stringify({ owner: 'ghost', expiresAt: now + TTL_MS, generation: 1 }),
        ),
      );
    }
    const started = Date.now();
    manager(dead, 'worker-b');
    await waitFor(() => dead.size === ITEMS.length, { timeoutMs: 10_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(TTL_MS - 200);
  });

  // A TTL of a minute: regular rounds 9 s apart, so only the rounds these tests are about can
  // explain a takeover within a second.
  const SLOW_TTL_MS = 60_000;

  it('takes a gracefully stopped peer’s leases at once, not at its next round', async () => {
    const a = new Set<LeaseItem>();
    const b = new Set<LeaseItem>();
    const mb = manager(b, 'worker-b', undefined, { ttlMs: SLOW_TTL_MS, share: 3 });
    await waitFor(() => b.size === 3, { timeoutMs: 5000 });
    manager(a, 'worker-a', undefined, { ttlMs: SLOW_TTL_MS });
    await waitFor(() => a.size === ITEMS.length - 3, { timeoutMs: 5000 });
    const stopped = Date.now();
    await mb.stop();
    managers.splice(managers.indexOf(mb), 1);
    await waitFor(() => a.size === ITEMS.length, { timeoutMs: 5000 });
    expect(Date.now() - stopped).toBeLessThan(1000);
  });

  it('takes a dead peer’s leases just after they expire, not at its next round', async () => {
    const a = new Set<LeaseItem>();
    const expiresAt = Date.now() + 1500;
    const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
    // A killed worker: its heartbeat and leases, written with one expiry, stay until then.
    await kv.put(
      'worker.ghost',
      encode({ id: 'ghost', expiresAt, partitions: [0, 1, 2, 3, 4, 5], generation: 1 }),
    );
    for (const item of ITEMS) {
      await kv.put(`lease.${item}`, encode({ owner: 'ghost', expiresAt, generation: 1 }));
    }
    manager(a, 'worker-a', undefined, { ttlMs: SLOW_TTL_MS });
    await waitFor(() => a.size === ITEMS.length, { timeoutMs: 5000, intervalMs: 10 });
    const late = Date.now() - expiresAt;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
  });
});
