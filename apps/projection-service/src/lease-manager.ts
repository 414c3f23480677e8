import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KV, KvEntry } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { Lease, WorkerHeartbeat } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { WorkItem } from './consumers';

/** A held lease. `valid()` turns false well before others may take it over. */
export interface LeaseHandle {
  readonly item: WorkItem;
  valid(): boolean;
}

export type RevokeReason = 'lost' | 'rebalance' | 'shutdown';

export interface LeaseManagerOptions {
  kv: KV;
  naming: Naming;
  generation: number;
  ttlMs: number;
  logger: Logger;
  /** Start working on an item; called once per acquisition. */
  onAcquire: (item: WorkItem, lease: LeaseHandle) => void;
  /** Stop working on an item: finish (rebalance, shutdown) or abandon (lost) the current batch. */
  onRevoke: (item: WorkItem, reason: RevokeReason) => Promise<void>;
  workerId?: string;
  /** How many items to aim for; default: a fair share among the live workers. */
  share?: (items: number, workers: number) => number;
}

/**
 * Lease timing, as shares of the TTL. A holder renews every RENEW_SHARE and trusts its lease for
 * VALID_SHARE after the start of its last successful renewal; others take over only after the
 * full TTL. What lies between (with the pull expiry and the ack wait, see the config check) lets
 * everything delivered to a holder become redeliverable before anyone else can pull.
 */
export const RENEW_SHARE = 0.15;
export const VALID_SHARE = 0.6;
/** The pull requests' expiry (the server delivers to an open pull until it expires). */
export const PULL_EXPIRES_MS = 1000;

interface Held {
  revision: number;
  /** Local validity deadline: the last renewal's start + VALID_SHARE of the TTL. */
  validUntil: number;
  handle: LeaseHandle;
}

export function newWorkerId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 24);
  return `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/**
 * Partition leases in KV: create/update-with-revision on `lease.g<gen>.<item>`, renewed every
 * RENEW_SHARE of the TTL. Workers publish heartbeats, count each other and each aim for its share
 * (ceil(items / workers)): a new worker takes free leases, a worker over its share hands extras
 * back, a dead worker's leases are taken over once they expire.
 */
export class LeaseManager {
  readonly workerId: string;
  private readonly held = new Map<WorkItem, Held>();
  private readonly items: WorkItem[];
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: LeaseManagerOptions) {
    this.workerId = options.workerId ?? newWorkerId();
    this.items = [...Array.from({ length: options.naming.partitions }, (_, p) => p), 'definitions'];
  }

  get owned(): WorkItem[] {
    return [...this.held.keys()];
  }

  start(): void {
    const interval = Math.max(100, Math.floor(this.options.ttlMs * RENEW_SHARE));
    const run = (): void => {
      if (this.stopped || this.ticking) return;
      this.ticking = this.tick()
        .catch((err: unknown) => this.options.logger.warn({ err }, 'lease round failed'))
        .finally(() => {
          this.ticking = null;
        });
    };
    run();
    this.timer = setInterval(run, interval);
  }

  /** Hand every lease back (after its work stopped) and remove the heartbeat. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.held.keys()].map((item) => this.release(item, 'shutdown')));
    await this.options.kv
      .delete(this.options.naming.workerKey(this.workerId))
      .catch(() => undefined);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const { kv, naming, ttlMs } = this.options;
    // Leases whose renewal could not be confirmed in time are gone: stop without acking.
    for (const [item, h] of this.held) {
      if (h.validUntil <= now) await this.revoke(item, 'lost');
    }
    const heartbeat: WorkerHeartbeat = {
      id: this.workerId,
      expiresAt: now + ttlMs,
      partitions: this.owned.filter((i): i is number => i !== 'definitions'),
      generation: this.options.generation,
    };
    await kv.put(naming.workerKey(this.workerId), encodeJson(heartbeat));
    await this.renewAll(now);
    const workers = await this.liveWorkers(now);
    const share = this.options.share
      ? this.options.share(this.items.length, workers)
      : Math.ceil(this.items.length / Math.max(1, workers));
    if (this.held.size > share) {
      const extras = this.owned.sort(byItem).slice(share);
      await Promise.all(extras.map((item) => this.release(item, 'rebalance')));
    } else if (this.held.size < share) {
      await this.acquireUpTo(share, now);
    }
  }

  private async renewAll(now: number): Promise<void> {
    const { kv, naming, generation, ttlMs } = this.options;
    for (const [item, h] of [...this.held]) {
      try {
        const lease: Lease = { owner: this.workerId, expiresAt: now + ttlMs, generation };
        h.revision = await kv.update(
          naming.leaseKey(generation, item),
          encodeJson(lease),
          h.revision,
        );
        h.validUntil = now + Math.floor(ttlMs * VALID_SHARE);
      } catch (err) {
        this.options.logger.warn({ err, item }, 'lease renewal failed');
        // Another worker holds it now (revision moved) or NATS is unreachable: the local
        // deadline decides; a revision conflict means it is gone for sure.
        const current = await kv.get(naming.leaseKey(generation, item)).catch(() => null);
        const lease = current ? (decodeJson(current.value) as Lease | undefined) : undefined;
        if (current && lease?.owner !== this.workerId) await this.revoke(item, 'lost');
      }
    }
  }

  private async liveWorkers(now: number): Promise<number> {
    const { kv, naming } = this.options;
    let alive = 0;
    const keys = await kv.keys(naming.workerKeyFilter);
    for await (const key of keys) {
      const e = await kv.get(key);
      const hb =
        e?.operation === 'PUT' ? (decodeJson(e.value) as WorkerHeartbeat | undefined) : undefined;
      // Only workers of the same generation share its items (a rebuild runs beside them).
      if (hb && hb.expiresAt > now && hb.generation === this.options.generation) alive++;
    }
    return Math.max(alive, 1);
  }

  private async acquireUpTo(share: number, now: number): Promise<void> {
    const { kv, naming, generation, ttlMs } = this.options;
    const start = Math.floor(Math.random() * this.items.length);
    for (let i = 0; i < this.items.length && this.held.size < share; i++) {
      const item = this.items[(start + i) % this.items.length]!;
      if (this.held.has(item)) continue;
      const key = naming.leaseKey(generation, item);
      const entry: KvEntry | null = await kv.get(key);
      const lease =
        entry?.operation === 'PUT' ? (decodeJson(entry.value) as Lease | undefined) : undefined;
      if (lease && lease.expiresAt > now) continue; // held by a live worker
      const value = encodeJson({
        owner: this.workerId,
        expiresAt: now + ttlMs,
        generation,
      } satisfies Lease);
      try {
        const revision = entry
          ? await kv.update(key, value, entry.revision)
          : await kv.create(key, value);
        const held: Held = {
          revision,
          validUntil: now + Math.floor(ttlMs * VALID_SHARE),
          handle: {
            item,
            valid: () => Date.now() < held.validUntil && this.held.get(item) === held,
          },
        };
        this.held.set(item, held);
        this.options.logger.info(
          { item, generation, previousOwner: lease?.owner },
          'lease acquired',
        );
        this.options.onAcquire(item, held.handle);
      } catch {
        // Another worker won the race for this one.
      }
    }
  }

  /** Stop the work on an item gracefully, then delete the lease so another worker can start. */
  private async release(item: WorkItem, reason: RevokeReason): Promise<void> {
    const h = this.held.get(item);
    if (!h) return;
    await this.options.onRevoke(item, reason);
    this.held.delete(item);
    const key = this.options.naming.leaseKey(this.options.generation, item);
    await this.options.kv.delete(key, { previousSeq: h.revision }).catch(() => undefined);
    this.options.logger.info({ item, reason }, 'lease released');
  }

  private async revoke(item: WorkItem, reason: RevokeReason): Promise<void> {
    if (!this.held.has(item)) return;
    this.held.delete(item);
    this.options.logger.warn({ item, reason }, 'lease lost; abandoning its work');
    await this.options.onRevoke(item, reason);
  }
}

function byItem(a: WorkItem, b: WorkItem): number {
  const n = (x: WorkItem): number => (x === 'definitions' ? -1 : x);
  return n(a) - n(b);
}
