import type { NatsConnection } from '@nats-io/transport-node';
import { LeanKv, StreamTail, decodeJson, type RequestMux } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { PartitionWatermark, ReadModelPointer } from '@cb/schemas';
import {
  jsApiStreamInfo,
  kvStreamName,
  kvSubjectPrefix,
  type Naming,
  type ReadModelKind,
} from '@cb/subjects';

const POINTER_POLL_MS = 1000;

/** Last applied seq of a partition (or of the definitions) at some moment; 0 if unknown. */
export type Watermarks = (item: number | 'definitions') => number;

/**
 * What the gateway knows about the read models: the generation readers follow (the `readmodels`
 * pointer, polled), and every partition's watermark — the last seq its worker applied — kept
 * current by a tail on the projector bucket, so "has seq N been applied?" costs no request.
 */
export class ReadView {
  private gen = 1;
  private readonly marks = new Map<string, number>();
  private tail: StreamTail | undefined;
  private readonly waiters = new Set<() => void>();
  private pointerTimer: NodeJS.Timeout | undefined;
  private readonly meta: LeanKv;
  private readonly kvs = new Map<string, LeanKv>();
  /** Bucket → true when it exists, else when it was last found missing. */
  private readonly buckets = new Map<string, true | number>();
  private stopped = false;
  private tailing: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly logger: Logger,
  ) {
    this.meta = new LeanKv(mux, naming.metaBucket);
  }

  async start(): Promise<void> {
    await this.refreshPointer();
    this.followWatermarks();
    this.pointerTimer = setInterval(() => void this.refreshPointer(), POINTER_POLL_MS);
    this.pointerTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pointerTimer);
    await this.tail?.stop();
    for (const w of this.waiters) w();
  }

  get generation(): number {
    return this.gen;
  }

  /** The lean client of a read-model bucket of the current generation. */
  kv(kind: ReadModelKind): LeanKv {
    const bucket = this.naming.readModelBucket(kind, this.gen);
    let kv = this.kvs.get(bucket);
    if (!kv) {
      kv = new LeanKv(this.mux, bucket);
      this.kvs.set(bucket, kv);
    }
    return kv;
  }

  /**
   * Whether a read-model bucket of the current generation exists (no worker may have created
   * it yet; a direct get on a missing stream is not answered at all). Found stays found;
   * missing is asked again at most once a second.
   */
  async hasBucket(kind: ReadModelKind): Promise<boolean> {
    const bucket = this.naming.readModelBucket(kind, this.gen);
    const known = this.buckets.get(bucket);
    if (known === true || (known !== undefined && Date.now() - known < 1000)) {
      return known === true;
    }
    const reply = await this.mux.request(
      jsApiStreamInfo(kvStreamName(bucket)),
      new Uint8Array(0),
      5000,
    );
    const info = decodeJson(reply.data) as { error?: unknown } | undefined;
    const exists = info !== undefined && info.error === undefined;
    this.buckets.set(bucket, exists ? true : Date.now());
    return exists;
  }

  /** Last applied seq of a partition (or of the definitions); 0 if unknown. */
  watermark(item: number | 'definitions'): number {
    return this.marks.get(String(item)) ?? 0;
  }

  /** The watermarks as they are now (take it before a read that a freshness check covers). */
  snapshot(): Watermarks {
    const copy = new Map(this.marks);
    return (item) => copy.get(String(item)) ?? 0;
  }

  /** Resolves on the next watermark change, or after `ms`. */
  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private async refreshPointer(): Promise<void> {
    try {
      const entry = await this.meta.get(this.naming.readModelPointerKey);
      const pointer = entry?.operation === 'PUT' ? entry.json<ReadModelPointer>() : undefined;
      const next = pointer && Number.isInteger(pointer.generation) ? pointer.generation : 1;
      if (next !== this.gen) {
        this.logger.info({ from: this.gen, to: next }, 'read models switched generation');
        this.gen = next;
        this.marks.clear();
        this.kvs.clear();
        const old = this.tail;
        this.tail = undefined;
        await old?.stop();
        this.followWatermarks();
      }
    } catch (err) {
      this.logger.debug({ err }, 'cannot read the read-model pointer');
    }
  }

  /** Tail the current generation's watermark keys; retried until the projector bucket exists. */
  private followWatermarks(): void {
    if (this.tailing || this.stopped) return;
    const gen = this.gen;
    const bucket = this.naming.projectorBucket;
    const prefix = kvSubjectPrefix(bucket);
    this.tailing = (async () => {
      for (let attempt = 0; !this.stopped && gen === this.gen; attempt++) {
        const tail = new StreamTail(
          this.nc,
          this.mux,
          kvStreamName(bucket),
          `${prefix}${this.naming.watermarkKeyFilter(gen)}`,
          {
            start: { deliver: 'last_per_subject' },
            heartbeatMs: 2000,
            onMessage: (msg) => {
              const item = msg.subject.slice(prefix.length).split('.')[2];
              const mark = decodeJson(msg.data) as PartitionWatermark | undefined;
              if (item === undefined || typeof mark?.seq !== 'number') return;
              if (mark.seq > (this.marks.get(item) ?? 0)) this.marks.set(item, mark.seq);
              for (const w of this.waiters) w();
            },
            onError: (err) => this.logger.warn({ err }, 'watermark tail restarting'),
          },
        );
        try {
          await tail.start();
          if (gen !== this.gen || this.stopped) {
            await tail.stop();
            return;
          }
          this.tail = tail;
          return;
        } catch (err) {
          await tail.stop();
          if (attempt === 0) this.logger.info({ err: String(err) }, 'no projector bucket yet');
          await new Promise((r) => setTimeout(r, 2000));
        }
      }
    })().finally(() => {
      this.tailing = undefined;
      // The generation switched while the tail was being set up: follow the new one.
      if (!this.stopped && !this.tail) this.followWatermarks();
    });
  }
}
