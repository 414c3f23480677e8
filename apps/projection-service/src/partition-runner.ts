import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@cb/logging';
import type { ApplyResult, BatchApplier } from './batch';
import type { WorkItem } from './consumers';
import type { DeadLetterKind, DeadLetters } from './dead-letters';
import type { LeaseHandle } from './lease-manager';
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
}

/**
 * Consumes one partition (or the definitions) in stream order, one batch at a time: decode,
 * dead-letter what cannot be applied, apply, then acknowledge. A batch is acknowledged only
 * after every write it causes succeeded. On a failure nothing after it is applied: the batch
 * and everything buffered behind it go back to the server in order, and consumption resumes
 * after a pause, so events of a token are never applied out of order.
 */
export class PartitionRunner<E extends { msg: JsMsg; seq: number }> {
  private queue: JsMsg[] = [];
  private wake: (() => void) | null = null;
  private messages: ConsumerMessages | null = null;
  private stopping: 'graceful' | 'abandon' | null = null;
  private done: Promise<void> = Promise.resolve();
  private readonly label: string;

  constructor(private readonly o: RunnerOptions<E>) {
    this.label = String(o.item);
  }

  start(): void {
    this.done = this.loop().catch((err: unknown) => {
      this.o.logger.error({ err, item: this.o.item }, 'partition runner stopped on an error');
    });
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
      while (this.active) {
        await this.nextMessages();
        if (!this.active) break;
        const batch = this.queue.splice(0, this.o.batchSize);
        const unhandled = await this.process(batch);
        if (unhandled.length === 0) {
          failures = 0;
          continue;
        }
        // Rewind: return what was not applied and everything behind it, in order, then pause.
        failures++;
        await this.unsubscribe();
        for (const m of [...unhandled, ...this.queue]) m.nak();
        this.queue = [];
        await sleep(Math.min(this.o.retryDelayMs * failures, 30_000), () => !this.active);
        break;
      }
    }
    await this.unsubscribe();
    if (this.stopping !== 'abandon' && this.o.lease.valid()) {
      // Graceful hand-over: give the buffered messages back at once, then wait one ack-wait so
      // any message still on its way to us when we unsubscribed is up for redelivery too.
      // Only then may the next owner start: it receives all of them first, in order, and the
      // stats' last-applied-seq check never skips an event that was not applied.
      for (const m of this.queue) m.nak();
      this.queue = [];
      await sleep(this.o.retryDelayMs + 250, () => false);
    }
    this.queue = [];
  }

  private async subscribe(): Promise<void> {
    const consumer = await this.o.js.consumers.get(this.o.stream, this.o.consumer);
    this.messages = await consumer.consume({
      max_messages: this.o.batchSize * 2,
      expires: 5000,
      callback: (m) => {
        this.queue.push(m);
        this.wake?.();
      },
    });
  }

  private async unsubscribe(): Promise<void> {
    const messages = this.messages;
    this.messages = null;
    if (messages) await messages.close().catch(() => undefined);
  }

  private nextMessages(): Promise<void> {
    if (this.queue.length > 0 || !this.active) return Promise.resolve();
    return new Promise((resolve) => {
      // Wake on a message or a stop; re-check the lease now and then even when idle.
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, 1000);
      this.wake = done;
    });
  }

  /** Apply and acknowledge one batch; returns the messages left unhandled (to retry later). */
  private async process(batch: JsMsg[]): Promise<JsMsg[]> {
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
      const result = await this.o.applier.apply(decoded);
      this.record(batch, result, started);
      for (const e of decoded) e.msg.ack();
      return [];
    } catch (err) {
      this.o.applier.reset();
      this.o.logger.warn({ err, item: this.o.item, size: batch.length }, 'batch failed; retrying');
      if (decoded.some((e) => e.msg.info.deliveryCount >= this.o.maxAttempts)) {
        await this.isolateFailing(decoded, handled);
      }
      return batch.filter((m) => !handled.has(m));
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
        const result = await this.o.applier.apply([e]);
        this.record([e.msg], result, started);
        e.msg.ack();
        handled.add(e.msg);
      } catch (err) {
        this.o.applier.reset();
        if (e.msg.info.deliveryCount < this.o.maxAttempts) return;
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
