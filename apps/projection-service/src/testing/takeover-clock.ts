import type { KV, KvWatchEntry } from '@nats-io/kv';
import { decodeJson } from '@cb/nats';
import type { Lease, PartitionWatermark } from '@cb/schemas';
import { consumerName } from '../consumers';
import type { Harness } from './harness';

/** What became of one partition a stopped worker owned. */
export type PartitionTakeover =
  /** Applying again `ms` after the stop; another worker took the lease after `takenMs`. */
  | { item: number; kind: 'applying'; ms: number; takenMs: number; by: string }
  /** Nothing of it was left to apply: no takeover to see. */
  | { item: number; kind: 'idle' }
  /** The worker that took it over stopped too before applying: timed from that stop instead. */
  | { item: number; kind: 'superseded' };

export interface Takeover {
  victim: string;
  partitions: PartitionTakeover[];
  /** The slowest partition's time (0 when none was timed). */
  ms: number;
}

interface Open {
  item: number;
  victim: string;
  since: number;
  /** The watermark a new owner must pass: what was applied when the victim stopped. */
  floor: number;
  /** Set once another worker holds the lease: the floor from then on. */
  takenAt: number | null;
  settle: (t: PartitionTakeover) => void;
}

/**
 * Times takeovers from the outside: from a worker's stop (SIGKILL or SIGTERM) until each
 * partition it owned is applying again on another worker — its lease held by someone else and its
 * watermark (the consumer's ack floor, what `minSeq` reads wait for) moving past what was applied
 * when the victim stopped. Leases and watermarks are followed through watches of the projector
 * bucket. Worker ids carry the pid (`<host>-<pid>-<random>`), which names the victim.
 */
export class TakeoverClock {
  private readonly owners = new Map<number, string>();
  private readonly marks = new Map<number, number>();
  private open: Open[] = [];
  private readonly watches: Array<{ stop(): void }> = [];

  constructor(
    private readonly h: Harness,
    private readonly generation: number,
  ) {}

  async start(): Promise<void> {
    const { naming } = this.h;
    await this.follow(naming.leaseKeyFilter(this.generation), (item, e) => {
      const lease = e.operation === 'PUT' ? (decodeJson(e.value) as Lease | undefined) : undefined;
      if (lease) this.owners.set(item, lease.owner);
      else this.owners.delete(item);
      this.check(item);
    });
    await this.follow(naming.watermarkKeyFilter(this.generation), (item, e) => {
      const mark = decodeJson(e.value) as PartitionWatermark | undefined;
      if (mark) this.marks.set(item, Math.max(this.marks.get(item) ?? 0, mark.seq));
      this.check(item);
    });
  }

  stop(): void {
    for (const w of this.watches) w.stop();
  }

  /** The partitions whose leases a worker process holds now. */
  ownedBy(pid: number): number[] {
    return [...this.owners].filter(([, owner]) => pidOf(owner) === pid).map(([item]) => item);
  }

  /**
   * Call right after signalling `pid` at `since`: resolves once every partition it owned is
   * applying again elsewhere (or turned out idle, or its next owner stopped too). What was
   * applied is read once `settled` resolves (a killed process's exit: its last acks are in).
   */
  async stopped(
    pid: number,
    since: number,
    name: string,
    settled: Promise<unknown> = Promise.resolve(),
  ): Promise<Takeover> {
    const items = this.ownedBy(pid);
    for (const o of this.open) {
      if (items.includes(o.item)) o.settle({ item: o.item, kind: 'superseded' });
    }
    this.open = this.open.filter((o) => !items.includes(o.item));
    await settled;
    const partitions = await Promise.all(items.map((item) => this.time(item, pid, since)));
    const timed = partitions.flatMap((p) => (p.kind === 'applying' ? [p.ms] : []));
    return { victim: name, partitions, ms: Math.max(0, ...timed) };
  }

  private async time(item: number, pid: number, since: number): Promise<PartitionTakeover> {
    const { jsm, naming } = this.h;
    const info = await jsm.consumers.info(
      naming.stream,
      consumerName(naming, this.generation, item),
    );
    if (info.num_pending + info.num_ack_pending === 0) return { item, kind: 'idle' };
    return new Promise((resolve) => {
      const open: Open = {
        item,
        victim: String(pid),
        since,
        floor: Math.max(info.ack_floor.stream_seq, this.marks.get(item) ?? 0),
        takenAt: null,
        settle: resolve,
      };
      this.open.push(open);
      this.check(item);
    });
  }

  private check(item: number): void {
    const now = Date.now();
    const owner = this.owners.get(item);
    const mark = this.marks.get(item) ?? 0;
    for (const o of this.open.filter((x) => x.item === item)) {
      if (owner === undefined || String(pidOf(owner)) === o.victim) continue;
      if (o.takenAt === null) {
        // What the victim applied before it let go does not count as the new owner's.
        o.takenAt = now;
        o.floor = Math.max(o.floor, mark);
        continue;
      }
      if (mark > o.floor) {
        const takenMs = o.takenAt - o.since;
        o.settle({ item, kind: 'applying', ms: now - o.since, takenMs, by: owner });
        this.open = this.open.filter((x) => x !== o);
      }
    }
  }

  private async follow(
    key: string,
    onEntry: (item: number, e: KvWatchEntry) => void,
  ): Promise<void> {
    const kv: KV = this.h.projectorKv;
    const iter = await kv.watch({ key });
    this.watches.push(iter);
    void (async () => {
      for await (const e of iter) {
        const item = Number(e.key.slice(e.key.lastIndexOf('.') + 1));
        if (Number.isInteger(item)) onEntry(item, e);
      }
    })();
  }
}

function pidOf(workerId: string): number {
  return Number(workerId.split('-').at(-2));
}

/** One line per partition: `p3 taken 140 ms, applying 620 ms`. */
export function describeTakeover(t: Takeover): string {
  return t.partitions
    .map((p) =>
      p.kind === 'applying'
        ? `p${p.item} taken ${p.takenMs} ms, applying ${p.ms} ms`
        : `p${p.item} ${p.kind}`,
    )
    .join('; ');
}

/** The `p`-th percentile (0–100) of `values` (nearest rank), 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
