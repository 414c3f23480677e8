import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@cb/logging';
import { NotYetError, type ApplyResult, type BatchApplier } from './batch';
import type { DeadLetterKind, DeadLetters } from './dead-letters';
import type { LeaseHandle } from '@cb/leases';
import { PULL_EXPIRES_MS, type WorkItem } from './consumers';
import type { ProjectionMetrics } from './metrics';

export type Decoded<E> =
  { ok: true; value: E } | { ok: false; kind: DeadLetterKind; reason: string };

export interface RunnerOptions<E> {
  js: JetStreamClient;
  stream: string;
  consumer: string;
  item: WorkItem;
  lease: LeaseHandle;
  applier: BatchApplier<E>;
  decode: (msg: JsMsg) => Decoded<E>;
  deadLetters: DeadLetters;
  batchSize: number;
  maxAttempts: number;
  /**
   * The consumer's ack wait: the pause after a failed batch before consuming again (grows with
   * the attempts), and the wait before a graceful hand-over completes.
   */
  retryDelayMs: number;
  metrics: ProjectionMetrics;
  logger: Logger;
  /**
   * Publish the partition's watermark: every event of it with seq ≤ `seq` is applied (or
   * dead-lettered). Called with the consumer's ack floor, which only acknowledged events move.
   */
  watermark: (seq: number) => Promise<void>;
}

/**
 * Consumes one partition (or the definitions) in stream order, one batch at a time: decode,
 * dead-letter what cannot be applied, apply, then acknowledge. A batch is acknowledged only
 * after every write it causes succeeded. On a failure nothing after it is applied: the batch
 * and everything buffered behind it go back to the server in order, and consumption resumes
 * after a pause, so events of a token are never applied out of order.
 */
export class PartitionRunner<E extends { msg: JsMsg; seq: number }> {
  /** Delivered, not yet acknowledged messages by stream seq (the latest delivery of each). */
  private buffer = new Map<number, JsMsg>();
  private wake: (() => void) | null = null;
  private messages: ConsumerMessages | null = null;
  private stopping: 'graceful' | 'abandon' | null = null;
  private done: Promise<void> = Promise.resolve();
  private lastKeepAlive = 0;
  private readonly label: string;
  private consumer: Consumer | null = null;
  private watermark = 0;

  constructor(private readonly o: RunnerOptions<E>) {
    this.label = String(o.item);
  }

  start(): void {
    // Stop pulling the moment the lease is no longer valid, even in the middle of a batch:
    // whatever reaches us afterwards must be up for redelivery before anyone can take over.
    const watchdog = setInterval(() => {
      if (!this.o.lease.valid() && this.messages) void this.unsubscribe();
      if (!this.o.lease.valid()) this.wake?.();
    }, 100);
    this.done = this.loop()
      .catch((err: unknown) => {
        this.o.logger.error({ err, item: this.o.item }, 'partition runner stopped on an error');
      })
      .finally(() => clearInterval(watchdog));
  }

  /** graceful: finish the batch in hand and return the buffered rest; abandon: ack nothing more. */
  async stop(mode: 'graceful' | 'abandon'): Promise<void> {
    this.stopping ??= mode;
    if (mode === 'abandon') this.stopping = 'abandon';
    this.wake?.();
    await this.done;
  }

  private get active(): boolean {
    return this.stopping === null && this.o.lease.valid();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.active) {
      await this.subscribe();
      let waiting = false;
      while (this.active) {
        await this.nextMessages(waiting);
        if (!this.active) break;
        const outcome = await this.process(this.lowest(this.o.batchSize));
        waiting = outcome === 'wait';
        if (outcome === 'done') {
          failures = 0;
        } else if (outcome === 'wait') {
          // An earlier event is still with a previous owner: keep everything, in stream order,
          // until it is redelivered to us; meanwhile keep the held messages from expiring.
          this.keepAlive();
        } else {
          // A write failed: hand everything back in stream order and pause before retrying.
          failures++;
          await this.unsubscribe();
          this.nakAll();
          await sleep(Math.min(this.o.retryDelayMs * failures, 30_000), () => !this.active);
          break;
        }
      }
    }
    await this.unsubscribe();
    if (this.stopping !== 'abandon' && this.o.lease.valid()) {
      // Graceful hand-over: give the buffered messages back at once, then wait one ack-wait so
      // any message still on its way to us when we unsubscribed is up for redelivery too.
      // Only then may the next owner start: it receives all of them before anything newer.
      this.nakAll();
      await sleep(this.o.retryDelayMs + 250, () => false);
    }
    this.buffer.clear();
  }

  private async subscribe(): Promise<void> {
    const consumer = await this.o.js.consumers.get(this.o.stream, this.o.consumer);
    this.consumer = consumer;
    this.messages = await consumer.consume({
      max_messages: this.o.batchSize * 2,
      expires: PULL_EXPIRES_MS,
      callback: (m) => {
        this.buffer.set(m.seq, m); // a redelivery replaces the older delivery
        this.wake?.();
      },
    });
  }

  private async unsubscribe(): Promise<void> {
    const messages = this.messages;
    this.messages = null;
    if (messages) await messages.close().catch(() => undefined);
  }

  /** The `n` buffered messages with the lowest stream sequences, in order. */
  private lowest(n: number): JsMsg[] {
    const seqs = [...this.buffer.keys()].sort((a, b) => a - b).slice(0, n);
    return seqs.map((seq) => this.buffer.get(seq)!);
  }

  private nakAll(): void {
    for (const m of this.lowest(this.buffer.size)) m.nak();
    this.buffer.clear();
  }

  private keepAlive(): void {
    const now = Date.now();
    if (now - this.lastKeepAlive < this.o.retryDelayMs / 2) return;
    this.lastKeepAlive = now;
    for (const m of this.buffer.values()) m.working();
  }

  /** Wait for messages (or, when `waiting`, for a new one) — at most a second. */
  private nextMessages(waiting: boolean): Promise<void> {
    if ((!waiting && this.buffer.size > 0) || !this.active) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, waiting ? 250 : 1000);
      this.wake = done;
    });
  }

  /** Apply and acknowledge one batch (handled messages leave the buffer). */
  private async process(batch: JsMsg[]): Promise<'done' | 'wait' | 'retry'> {
    if (batch.length === 0) return 'done';
    const started = performance.now();
    const handled = new Set<JsMsg>();
    const decoded: E[] = [];
    try {
      for (const msg of batch) {
        const d = this.o.decode(msg);
        if (d.ok) {
          decoded.push(d.value);
        } else {
          await this.o.deadLetters.send(msg, d.kind, d.reason);
          handled.add(msg);
        }
      }
      const result = await this.o.applier.apply(decoded, {
        contiguous: isContiguous(batch),
        lastSeq: batch[batch.length - 1]!.seq,
      });
      this.record(batch, result, started);
      // Writes are idempotent, so acking after the lease ended is harmless; acking lets the
      // next owner start right after these instead of waiting for their redelivery.
      const last = decoded.at(-1);
      for (const e of decoded) {
        if (e !== last) e.msg.ack();
        handled.add(e.msg);
      }
      // The server handles acks in order: once the last one is confirmed, the ack floor
      // covers the whole batch and can be published as the watermark.
      if (last && (await last.msg.ackAck({ timeout: 5000 }).catch(() => false))) {
        await this.publishAckFloor();
      } else if (!last) {
        // Only dead letters (terminated, unconfirmed): read the floor once they are processed.
        setTimeout(() => void this.publishAckFloor(), 100).unref();
      }
      return 'done';
    } catch (err) {
      this.o.applier.reset();
      if (err instanceof NotYetError) {
        this.o.logger.debug({ err, item: this.o.item }, 'batch must wait for an earlier event');
        return 'wait';
      }
      this.o.logger.warn({ err, item: this.o.item, size: batch.length }, 'batch failed; retrying');
      if (decoded.some((e) => e.msg.info.deliveryCount >= this.o.maxAttempts)) {
        await this.isolateFailing(decoded, handled);
      }
      return 'retry';
    } finally {
      for (const m of handled) if (this.buffer.get(m.seq) === m) this.buffer.delete(m.seq);
    }
  }

  /**
   * After a failed batch, an event delivered `maxAttempts` times is the likely culprit: apply
   * the batch one event at a time, dead-letter the one that fails on its last attempt, and
   * acknowledge what went through; stop at the first event that may still succeed later.
   */
  private async isolateFailing(decoded: E[], handled: Set<JsMsg>): Promise<void> {
    for (const e of decoded) {
      const started = performance.now();
      try {
        const result = await this.o.applier.apply([e], { contiguous: false, lastSeq: e.seq });
        this.record([e.msg], result, started);
        e.msg.ack();
        handled.add(e.msg);
      } catch (err) {
        this.o.applier.reset();
        if (err instanceof NotYetError || e.msg.info.deliveryCount < this.o.maxAttempts) return;
        try {
          await this.o.deadLetters.send(
            e.msg,
            'failing',
            `failed ${e.msg.info.deliveryCount} times: ${String(err)}`,
          );
          handled.add(e.msg);
        } catch {
          return;
        }
      }
    }
  }

  /**
   * The watermark is the consumer's ack floor, not the batch's last seq: an earlier event of the
   * partition may still be out with a previous owner, and readers rely on "≤ watermark is
   * applied". Best effort: a failure only delays the watermark.
   */
  private async publishAckFloor(): Promise<void> {
    try {
      const info = await this.consumer?.info(false);
      if (!info) return;
      // Nothing awaiting an ack: everything delivered is handled (terminated dead letters do not
      // move the ack floor on every server version).
      const floor =
        info.num_ack_pending === 0
          ? Math.max(info.ack_floor.stream_seq, info.delivered.stream_seq)
          : info.ack_floor.stream_seq;
      if (floor > this.watermark) {
        await this.o.watermark(floor);
        this.watermark = floor;
      }
    } catch (err) {
      this.o.logger.debug({ err, item: this.o.item }, 'watermark not published');
    }
  }

  private record(batch: JsMsg[], result: ApplyResult, started: number): void {
    const m = this.o.metrics;
    m.applied.inc({ item: this.label }, result.applied);
    m.skipped.inc({ item: this.label }, result.skipped);
    const last = batch[batch.length - 1];
    if (last) {
      m.lastAppliedSeq.set({ item: this.label }, last.seq);
      m.pending.set({ item: this.label }, Math.max(0, last.info.pending));
    }
    m.batchSeconds.observe((performance.now() - started) / 1000);
  }
}

function sleep(ms: number, cancelled: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (cancelled() || Date.now() - started >= ms) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
  });
}

/** First deliveries with consecutive consumer sequences: nothing of the partition between them. */
function isContiguous(batch: JsMsg[]): boolean {
  for (let i = 0; i < batch.length; i++) {
    const info = batch[i]!.info;
    if (info.deliveryCount !== 1) return false;
    if (i > 0 && info.deliverySequence !== batch[i - 1]!.info.deliverySequence + 1) return false;
  }
  return true;
}
