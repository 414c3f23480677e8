import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KV, KvEntry, KvWatchEntry } from '@nats-io/kv';
import { decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { Lease, WorkerHeartbeat } from '@cb/schemas';
import { nextTakeoverAt } from './takeover';

/** What leases are taken on: a token partition, or the definitions. */
export type LeaseItem = number | 'definitions';

/** A held lease. `valid()` turns false well before others may take it over. */
export interface LeaseHandle {
  readonly item: LeaseItem;
  valid(): boolean;
}

export type RevokeReason = 'lost' | 'rebalance' | 'shutdown';

/** Where one group of workers keeps its leases and heartbeats, in one KV bucket. */
export interface LeaseKeys {
  lease(item: LeaseItem): string;
  worker(workerId: string): string;
  /** Key filter of every worker heartbeat of the group. */
  workers: string;
}

export interface LeaseManagerOptions {
  kv: KV;
  /** The items the group shares. */
  items: readonly LeaseItem[];
  keys: LeaseKeys;
  /** Recorded in leases and heartbeats: only workers of the same generation share the items. */
  generation: number;
  ttlMs: number;
  logger: Logger;
  /** Start working on an item; called once per acquisition. */
  onAcquire: (item: LeaseItem, lease: LeaseHandle) => void;
  /** Stop working on an item: finish (rebalance, shutdown) or abandon (lost) the current work. */
  onRevoke: (item: LeaseItem, reason: RevokeReason) => Promise<void>;
  workerId?: string;
  /** How many items to aim for; default: a fair share among the live workers. */
  share?: (items: number, workers: number) => number;
}

/**
 * Lease timing, as shares of the TTL. A holder renews every RENEW_SHARE and trusts its lease for
 * VALID_SHARE after the start of its last successful renewal; others take over only after the
 * full TTL. What lies between (40 % of the TTL, less any clock skew between the hosts) lets the
 * writes a holder issued while it trusted its lease land before anyone else can start. A shorter
 * TTL shrinks that margin with it, so what must never be overtaken by a late write of a previous
 * holder is compare-and-set, not timed (see docs/design.md, "Failover").
 */
export const RENEW_SHARE = 0.15;
export const VALID_SHARE = 0.6;

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
 * Leases in KV: create/update-with-revision on each item's key, renewed every RENEW_SHARE of the
 * TTL. Workers publish heartbeats, count each other and each aim for its share
 * (ceil(items / workers)): a new worker takes free leases, a worker over its share hands extras
 * back, a dead worker's leases are taken over once they expire. A round reads only known keys
 * (direct gets); the heartbeats of the others arrive through one long-lived watch, so lease
 * rounds create no consumers. Besides the regular rounds, one runs at once when a peer leaves
 * (its heartbeat is deleted after it released its leases: a graceful stop hands over at once)
 * and just after a peer's heartbeat expires (a killed worker's leases expire with it: the
 * takeover comes at the TTL, not up to a round interval later).
 */
export class LeaseManager {
  readonly workerId: string;
  private readonly held = new Map<LeaseItem, Held>();
  private timer: NodeJS.Timeout | null = null;
  /** The round at the next expiry of a peer (see `nextTakeoverAt`). */
  private takeoverTimer: NodeJS.Timeout | null = null;
  private takeoverAt: number | null = null;
  private ticking: Promise<void> | null = null;
  /** A round was asked for while one ran: run another right after it. */
  private again = false;
  private stopped = false;
  private readonly heartbeats = new Map<string, WorkerHeartbeat>();
  private watch: { stop(): void } | null = null;
  private watching: Promise<void> | null = null;
  private lastRoundAt = 0;
  /**
   * Leases being handed back: their work finishes in the background (renewed meanwhile), so a
   * slow hand-over never holds up the rounds that renew the other leases.
   */
  private readonly releasing = new Map<LeaseItem, Promise<void>>();

  constructor(private readonly options: LeaseManagerOptions) {
    this.workerId = options.workerId ?? newWorkerId();
  }

  get owned(): LeaseItem[] {
    return [...this.held.keys()];
  }

  /** The held lease of an item, if this worker holds it. */
  handle(item: LeaseItem): LeaseHandle | undefined {
    return this.held.get(item)?.handle;
  }

  /** Start the lease rounds; resolves once the first one has run (whether it succeeded or not). */
  start(): Promise<void> {
    this.watching = this.watchHeartbeats();
    const first = this.round(false);
    this.timer = setInterval(() => void this.round(false), this.interval);
    return first;
  }

  /**
   * Run a lease round. A regular one is skipped while another runs; an `urgent` one (a peer left
   * or expired) runs right after it, since the running round may have read the old state.
   */
  private round(urgent: boolean): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.ticking) {
      if (urgent) this.again = true;
      return this.ticking;
    }
    this.ticking = this.tick()
      .then(() => {
        this.lastRoundAt = Date.now();
      })
      .catch((err: unknown) => this.options.logger.warn({ err }, 'lease round failed'))
      .finally(() => {
        this.ticking = null;
        this.armTakeover();
        if (this.again) {
          this.again = false;
          void this.round(true);
        }
      });
    return this.ticking;
  }

  /** Schedule the round at the next expiry of a peer's heartbeat (re-armed as they renew). */
  private armTakeover(): void {
    if (this.stopped) return;
    const { generation } = this.options;
    const at = nextTakeoverAt(this.heartbeats, this.workerId, generation, Date.now());
    if (at === this.takeoverAt) return;
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    this.takeoverAt = at;
    this.takeoverTimer =
      at === null
        ? null
        : setTimeout(
            () => {
              this.takeoverTimer = null;
              this.takeoverAt = null;
              void this.round(true);
            },
            Math.max(0, at - Date.now()),
          );
  }

  /**
   * Whether lease rounds succeed (the last one within three intervals, and never less than a
   * second: with a short TTL a loaded worker must not flap): the worker takes part.
   */
  get healthy(): boolean {
    const within = Math.max(3 * this.interval, 1000);
    return this.lastRoundAt !== 0 && Date.now() - this.lastRoundAt < within;
  }

  private get interval(): number {
    return Math.max(100, Math.floor(this.options.ttlMs * RENEW_SHARE));
  }

  /** Hand every lease back (after its work stopped) and remove the heartbeat. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.takeoverTimer) clearTimeout(this.takeoverTimer);
    this.watch?.stop();
    await this.ticking;
    await Promise.all([...this.releasing.values()]);
    await Promise.all([...this.held.keys()].map((item) => this.release(item, 'shutdown')));
    await this.options.kv.delete(this.options.keys.worker(this.workerId)).catch(() => undefined);
    await this.watching;
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    const { kv, keys, ttlMs } = this.options;
    // Leases whose renewal could not be confirmed in time are gone: stop without finishing.
    for (const [item, h] of this.held) {
      if (h.validUntil <= now) await this.revoke(item, 'lost');
    }
    const heartbeat: WorkerHeartbeat = {
      id: this.workerId,
      expiresAt: now + ttlMs,
      partitions: this.owned.filter((i): i is number => i !== 'definitions'),
      generation: this.options.generation,
    };
    await kv.put(keys.worker(this.workerId), encodeJson(heartbeat));
    this.heartbeats.set(this.workerId, heartbeat);
    await this.renewAll(now);
    const workers = this.liveWorkers(now);
    const total = this.options.items.length;
    const share = this.options.share
      ? this.options.share(total, workers)
      : Math.ceil(total / Math.max(1, workers));
    const keeping = this.held.size - this.releasing.size;
    if (keeping > share) {
      const extras = this.owned
        .filter((item) => !this.releasing.has(item))
        .sort(byItem)
        .slice(share);
      for (const item of extras) {
        const done = this.release(item, 'rebalance')
          .catch((err: unknown) => this.options.logger.warn({ err, item }, 'hand-over failed'))
          .finally(() => this.releasing.delete(item));
        this.releasing.set(item, done);
      }
    } else if (keeping < share && this.releasing.size === 0) {
      await this.acquireUpTo(share, now);
    }
  }

  /**
   * Follow every heartbeat of the group through one watch (one ordered consumer for the life of
   * the manager, re-created only if it ends, e.g. with NATS down).
   */
  private async watchHeartbeats(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const iter = await this.options.kv.watch({ key: this.options.keys.workers });
        this.watch = iter;
        if (this.stopped) iter.stop();
        for await (const e of iter) this.onHeartbeat(e);
        attempt = 0;
      } catch (err) {
        if (this.stopped) return;
        if (attempt === 0) this.options.logger.warn({ err }, 'heartbeat watch failed; retrying');
      }
      if (!this.stopped)
        await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
    }
  }

  private onHeartbeat(e: KvWatchEntry): void {
    const id = e.key.slice(e.key.lastIndexOf('.') + 1);
    const hb =
      e.operation === 'PUT' ? (decodeJson(e.value) as WorkerHeartbeat | undefined) : undefined;
    if (hb && typeof hb.expiresAt === 'number') {
      this.heartbeats.set(id, hb);
      this.armTakeover();
    } else if (this.heartbeats.delete(id) && id !== this.workerId) {
      // A peer that stops releases its leases first, then deletes its heartbeat: take them now.
      void this.round(true);
    }
  }

  private liveWorkers(now: number): number {
    let alive = 0;
    for (const [id, hb] of this.heartbeats) {
      // Only workers of the same generation share its items (a rebuild runs beside them).
      if (hb.expiresAt > now && hb.generation === this.options.generation) alive++;
      else if (hb.expiresAt <= now - this.options.ttlMs) this.heartbeats.delete(id);
    }
    return Math.max(alive, 1);
  }

  /**
   * Renew every held lease at once: a round then costs one round trip, not one per lease, so a
   * busy event loop (a worker applying a backlog) delays it once, not once per partition, and
   * the renewals land well within VALID_SHARE of a short TTL.
   */
  private async renewAll(now: number): Promise<void> {
    await Promise.all([...this.held].map(([item, h]) => this.renew(item, h, now)));
  }

  private async renew(item: LeaseItem, h: Held, now: number): Promise<void> {
    const { kv, keys, generation, ttlMs } = this.options;
    try {
      const lease: Lease = { owner: this.workerId, expiresAt: now + ttlMs, generation };
      h.revision = await kv.update(keys.lease(item), encodeJson(lease), h.revision);
      h.validUntil = now + Math.floor(ttlMs * VALID_SHARE);
    } catch (err) {
      this.options.logger.warn({ err, item }, 'lease renewal failed');
      // Another worker holds it now (revision moved) or NATS is unreachable: the local
      // deadline decides; a revision conflict means it is gone for sure.
      const current = await kv.get(keys.lease(item)).catch(() => null);
      const lease = current ? (decodeJson(current.value) as Lease | undefined) : undefined;
      if (current && lease?.owner !== this.workerId) await this.revoke(item, 'lost');
    }
  }

  /**
   * Take free or expired leases up to `share`. The candidates are read at once and claimed at once
   * (compare-and-set: of workers racing for one lease, one wins), so taking over a dead peer's
   * partitions costs two round trips, not two per partition.
   */
  private async acquireUpTo(share: number, now: number): Promise<void> {
    const { kv, keys, items } = this.options;
    const start = Math.floor(Math.random() * items.length);
    const candidates = [...items.slice(start), ...items.slice(0, start)].filter(
      (item) => !this.held.has(item),
    );
    const read = await Promise.all(
      candidates.map(async (item) => ({ item, entry: await kv.get(keys.lease(item)) })),
    );
    // Held by a live worker: leave it.
    const free = read.filter(({ entry }) => !((leaseOf(entry)?.expiresAt ?? 0) > now));
    // A worker that is stopping takes nothing new: work started now would be handed back at once,
    // in the middle of its first deliveries.
    if (this.stopped) return;
    const wanted = free.slice(0, Math.max(0, share - this.held.size));
    await Promise.all(wanted.map(({ item, entry }) => this.claim(item, entry, now)));
  }

  private async claim(item: LeaseItem, entry: KvEntry | null, now: number): Promise<void> {
    const { kv, keys, generation, ttlMs } = this.options;
    const key = keys.lease(item);
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
        { item, generation, previousOwner: leaseOf(entry)?.owner },
        'lease acquired',
      );
      // Claimed while stopping: held only to be released by `stop`, with no work started.
      if (!this.stopped) this.options.onAcquire(item, held.handle);
    } catch {
      // Another worker won the race for this one.
    }
  }

  /** Stop the work on an item gracefully, then delete the lease so another worker can start. */
  private async release(item: LeaseItem, reason: RevokeReason): Promise<void> {
    const h = this.held.get(item);
    if (!h) return;
    await this.options.onRevoke(item, reason);
    this.held.delete(item);
    await this.options.kv
      .delete(this.options.keys.lease(item), { previousSeq: h.revision })
      .catch(() => undefined);
    this.options.logger.info({ item, reason }, 'lease released');
  }

  private async revoke(item: LeaseItem, reason: RevokeReason): Promise<void> {
    if (!this.held.has(item)) return;
    this.held.delete(item);
    this.options.logger.warn({ item, reason }, 'lease lost; abandoning its work');
    await this.options.onRevoke(item, reason);
  }
}

function leaseOf(entry: KvEntry | null): Lease | undefined {
  return entry?.operation === 'PUT' ? (decodeJson(entry.value) as Lease | undefined) : undefined;
}

function byItem(a: LeaseItem, b: LeaseItem): number {
  const n = (x: LeaseItem): number => (x === 'definitions' ? -1 : x);
  return n(a) - n(b);
}
