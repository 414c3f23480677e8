import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '@cb/logging';
import { NotYetError, type ApplyResult, type BatchApplier } from './batch';
import type { DeadLetterKind, DeadLetters } from './dead-letters';
import type { LeaseHandle } from '@cb/leases';
import { PULL_EXPIRES_MS, type WorkItem } from './consumers';
import { drainDeliveries } from './drain';
import { FailureStreak, type FailureState } from './failure-streak';
import { describeFailure, failureKind, type FailureKind } from './failures';
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
  /** Deterministic failures of an event before it is dead-lettered (outages never count). */
  maxAttempts: number;
  /** The consumer's ack wait: how often held messages are kept from being redelivered. */
  retryDelayMs: number;
  metrics: ProjectionMetrics;
  logger: Logger;
  /**
   * Publish the partition's watermark: every event of it with seq ≤ `seq` is applied (or
   * dead-lettered). Called with the consumer's ack floor, which only acknowledged events move.
   */
  watermark: (seq: number) => Promise<void>;
  /** Seconds the stream time of the partition's last event is ahead of `appliedSeq`'s. */
  timeLag?: (appliedSeq: number) => Promise<number>;
}

type Outcome =
  { kind: 'done' } | { kind: 'wait' } | { kind: 'failed'; failure: FailureKind; err: unknown };

const DONE: Outcome = { kind: 'done' };
const WAIT: Outcome = { kind: 'wait' };
/** Deterministic failures remembered per event at most (the oldest are forgotten first). */
const STRIKES_LIMIT = 10_000;

/**
 * Consumes one partition (or the definitions) in stream order, one batch at a time: decode,
 * dead-letter what cannot be applied, apply, then acknowledge. A batch is acknowledged only
 * after every write it causes succeeded. On a failure nothing after it is applied: the same
 * batch is tried again after a pause (250 ms doubling to 10 s) with the messages held, so
 * events of a token are never applied out of order. An outage (see `failureKind`) is retried
 * for as long as it lasts; a deterministic failure is traced to its event, which is
 * dead-lettered after `maxAttempts` of them.
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
  /** The highest watermark to publish, and the one put in flight (at most one at a time). */
  private markWanted = 0;
  private marking: Promise<void> | null = null;
  private readonly streak = new FailureStreak();
  /** Deterministic failures per stream seq: what dead-letters an event (outages never count). */
  private readonly strikes = new Map<number, number>();
  /** Events still in the consumer after the latest delivery. */
  private undelivered = 0;
  /**
   * A point up to which every delivery (consumer seq) and every event of the partition (stream
   * seq) is handled: the consumer's ack floor, moved on by each batch that follows it directly.
   * A batch that does needs neither a gap check nor the server's word for the watermark.
   */
  private chain: { consumerSeq: number; streamSeq: number } | null = null;

  constructor(private readonly o: RunnerOptions<E>) {
    this.label = String(o.item);
  }

  /** The current run of failed attempts, or null while the partition applies. */
  get failing(): Readonly<FailureState> | null {
    return this.streak.current;
  }

  start(): void {
    // Stop pulling the moment the lease is no longer valid, even in the middle of a batch:
    // whatever reaches us afterwards must be up for redelivery before anyone can take over.
    const watchdog = setInterval(() => {
      if (!this.o.lease.valid() && this.messages) void this.unsubscribe();
      if (!this.o.lease.valid()) this.wake?.();
    }, 100);
    const unregister = this.o.metrics.reportLag(
      this.label,
      () => ({
        pending: this.buffer.size + this.undelivered,
        oldestUnappliedAt: this.oldestUnappliedAt(),
        failingSince: this.streak.current?.since ?? null,
      }),
      this.o.timeLag && (() => this.o.timeLag!(this.watermark)),
    );
    this.done = this.loop()
      .catch((err: unknown) => {
        this.o.logger.error({ err, item: this.o.item }, 'partition runner stopped on an error');
      })
      .finally(() => {
        clearInterval(watchdog);
        unregister();
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
    let waiting = false;
    while (this.active) {
      if (!this.messages) {
        waiting = false;
        if (!(await this.subscribe())) continue;
      }
      await this.nextMessages(waiting);
      if (!this.active || !this.messages) continue;
      const outcome = await this.process(this.lowest(this.o.batchSize));
      waiting = outcome.kind === 'wait';
      if (outcome.kind === 'done') {
        this.recovered();
      } else if (outcome.kind === 'wait') {
        // An earlier event is still with a previous owner: keep everything, in stream order,
        // until it is redelivered to us; meanwhile keep the held messages from expiring.
        this.keepAlive();
      } else {
        // Nothing after the failed batch is applied: the same batch is tried again after the
        // pause, with every message held (an outage may outlast many ack waits).
        await this.retryLater(outcome.failure, outcome.err);
      }
    }
    // Graceful hand-over: receive what is on its way (drain), give everything held back (redelivered
    // at once, so the next owner receives it before anything newer) and return: the next owner
    // may start right away. Should a message still escape us it comes back an ack wait later, and
    // the next owner applies nothing of its workflow past it meanwhile (the token applier's gap
    // check; definitions only ever move forward), so order never depends on that timing.
    const graceful = this.stopping !== 'abandon' && this.o.lease.valid();
    await this.unsubscribe(graceful);
    await this.marking;
    if (graceful) {
      // nats-server keeps the closed consume's pull request waiting until it expires or the server
      // finds nobody listens, which asking for the consumer's info makes it check. A nak handled
      // before that is redelivered into the dead request and lost until its back-off ends: the
      // next owner stalled ~2 s on it in most test hand-overs, in 1 partition of 36 since.
      await this.consumer?.info(false).catch(() => undefined);
      this.nakAll();
    }
    this.buffer.clear();
  }

  /** Start consuming; false (after the pause) when the consumer cannot be reached. */
  private async subscribe(): Promise<boolean> {
    try {
      const consumer = await this.o.js.consumers.get(this.o.stream, this.o.consumer);
      const messages = await consumer.consume({
        max_messages: this.o.batchSize * 2,
        expires: PULL_EXPIRES_MS,
        callback: (m) => {
          this.buffer.set(m.seq, m); // a redelivery replaces the older delivery
          this.undelivered = Math.max(0, m.info.pending);
          this.wake?.();
        },
      });
      this.consumer = consumer;
      this.messages = messages;
      // What a previous owner applied counts: the watermark (and the time-based lag measured
      // from it) starts at the consumer's ack floor, not at 0.
      void this.publishAckFloor();
      // The client ends a consume on its own on some errors: consume again, keeping the buffer.
      const ended = (): void => {
        if (this.messages !== messages) return;
        this.messages = null;
        this.o.logger.warn({ item: this.o.item }, 'consumer subscription ended; consuming again');
        this.wake?.();
      };
      void messages.closed().then(ended, ended);
      return true;
    } catch (err) {
      await this.retryLater(failureKind(err), err);
      return false;
    }
  }

  /** Stop consuming; with `drain`, first receive what the server already sent (see drainDeliveries). */
  private async unsubscribe(drain = false): Promise<void> {
    const messages = this.messages;
    this.messages = null;
    if (!messages) return;
    if (drain) await drainDeliveries(messages);
    await messages.close().catch(() => undefined);
  }

  /** Count and log a failed attempt, then pause (keeping the held messages) before the next. */
  private async retryLater(failure: FailureKind, err: unknown): Promise<void> {
    this.o.metrics.failures.inc({ item: this.label, kind: failure });
    const { delayMs, log } = this.streak.fail(err, failure, Date.now());
    if (log) {
      const s = this.streak.current!;
      this.o.logger.warn(
        {
          item: this.o.item,
          kind: failure,
          failingForMs: Date.now() - s.since,
          attempts: s.attempts,
          lastError: s.lastError,
          retryInMs: delayMs,
          held: this.buffer.size,
        },
        failure === 'transient'
          ? 'partition retrying through an outage'
          : 'partition retrying a failing event',
      );
    }
    await sleep(delayMs, () => {
      if (!this.active) return true;
      this.keepAlive();
      return false;
    });
  }

  /** An attempt succeeded: the end of a failure streak is logged once. */
  private recovered(): void {
    const ended = this.streak.end();
    if (ended) {
      this.o.logger.info(
        { item: this.o.item, failedForMs: Date.now() - ended.since, attempts: ended.attempts },
        'partition applying again',
      );
    }
  }

  /** Stream time of the oldest held event (held events are exactly the unapplied delivered ones). */
  private oldestUnappliedAt(): number | null {
    let oldest: JsMsg | null = null;
    for (const m of this.buffer.values()) if (!oldest || m.seq < oldest.seq) oldest = m;
    return oldest ? oldest.time.getTime() : null;
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

  /** Keep held messages from being redelivered (at most every half ack wait). */
  private keepAlive(): void {
    const now = Date.now();
    if (now - this.lastKeepAlive < this.o.retryDelayMs / 2) return;
    this.lastKeepAlive = now;
    try {
      for (const m of this.buffer.values()) m.working();
    } catch {
      // The connection is closed: the messages will be redelivered, which is harmless.
    }
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
  private async process(batch: JsMsg[]): Promise<Outcome> {
    if (batch.length === 0) return DONE;
    const started = performance.now();
    const handled = new Set<JsMsg>();
    const decoded: E[] = [];
    try {
      for (const msg of batch) {
        const d = this.o.decode(msg);
        if (d.ok) {
          decoded.push(d.value);
        } else {
          const failed = await this.deadLetter(msg, d.kind, d.reason, handled);
          if (failed) return failed;
        }
      }
      const contiguous = isContiguous(batch);
      const first = batch[0]!.info.deliverySequence;
      const chained = contiguous && this.chain !== null && first === this.chain.consumerSeq + 1;
      const lastSeq = batch[batch.length - 1]!.seq;
      const result = await this.o.applier.apply(decoded, { contiguous, chained, lastSeq });
      this.record(batch, result, started);
      // Writes are idempotent, so acking after the lease ended is harmless; acking lets the
      // next owner start right after these instead of waiting for their redelivery.
      const last = decoded.at(-1);
      for (const e of decoded) {
        if (e !== last || chained) e.msg.ack();
        handled.add(e.msg);
      }
      if (chained) {
        // Everything up to the batch's end is applied: that is the watermark, whether or not the
        // acks have reached the server yet (a lost ack only means a harmless redelivery).
        this.chain = {
          consumerSeq: batch[batch.length - 1]!.info.deliverySequence,
          streamSeq: lastSeq,
        };
        this.publishWatermark(lastSeq);
      } else {
        this.chain = null;
        await this.confirmAndPublish(last?.msg ?? null);
      }
      return DONE;
    } catch (err) {
      this.o.applier.reset();
      if (err instanceof NotYetError) {
        this.o.logger.debug({ err, item: this.o.item }, 'batch must wait for an earlier event');
        return WAIT;
      }
      const failure = failureKind(err);
      this.o.logger.debug({ err, item: this.o.item, size: batch.length, failure }, 'batch failed');
      if (failure === 'transient') return { kind: 'failed', failure, err };
      return await this.isolate(decoded, handled);
    } finally {
      for (const m of handled) {
        if (this.buffer.get(m.seq) === m) this.buffer.delete(m.seq);
        this.strikes.delete(m.seq);
      }
    }
  }

  /**
   * After a deterministic failure, find the event that fails: apply the batch one event at a
   * time, acknowledging what goes through, up to the first that fails. If it fails
   * deterministically it gets a strike, and with `maxAttempts` strikes it is dead-lettered; if
   * it fails otherwise (an outage) it is retried without one.
   */
  private async isolate(decoded: E[], handled: Set<JsMsg>): Promise<Outcome> {
    this.chain = null;
    let acked: JsMsg | null = null;
    let outcome: Outcome = DONE;
    for (const e of decoded) {
      const started = performance.now();
      try {
        const result = await this.o.applier.apply([e], { contiguous: false, lastSeq: e.seq });
        this.record([e.msg], result, started);
        acked?.ack();
        acked = e.msg;
        handled.add(e.msg);
        continue;
      } catch (err) {
        this.o.applier.reset();
        if (err instanceof NotYetError) {
          outcome = WAIT;
          break;
        }
        const failure = failureKind(err);
        if (failure === 'transient') {
          outcome = { kind: 'failed', failure, err };
          break;
        }
        const strikes = this.strike(e.seq);
        if (strikes < this.o.maxAttempts) {
          outcome = { kind: 'failed', failure, err };
          break;
        }
        // The last failed attempt: counted here, as it is not retried.
        this.o.metrics.failures.inc({ item: this.label, kind: failure });
        const { code, message } = describeFailure(err);
        const reason = `failed ${strikes} times: ${code}: ${message}`;
        // Dead-lettered (or not): the events after it go back to whole batches.
        outcome = (await this.deadLetter(e.msg, 'failing', reason, handled)) ?? DONE;
        break;
      }
    }
    if (handled.size > 0) await this.confirmAndPublish(acked);
    return outcome;
  }

  /**
   * Dead-letter `msg`. When that fails, the failed attempt (retried like any other, but never a
   * strike: the event is not applied, it cannot be its fault), else null.
   */
  private async deadLetter(
    msg: JsMsg,
    kind: DeadLetterKind,
    reason: string,
    handled: Set<JsMsg>,
  ): Promise<Outcome | null> {
    try {
      await this.o.deadLetters.send(msg, kind, reason);
      handled.add(msg);
      return null;
    } catch (err) {
      return { kind: 'failed', failure: failureKind(err), err };
    }
  }

  /** One more deterministic failure of the event at `seq`; how many it has had. */
  private strike(seq: number): number {
    const strikes = (this.strikes.get(seq) ?? 0) + 1;
    this.strikes.delete(seq);
    this.strikes.set(seq, strikes);
    if (this.strikes.size > STRIKES_LIMIT) this.strikes.delete(this.strikes.keys().next().value!);
    return strikes;
  }

  /**
   * Acknowledge `last` (the highest event applied; the others are acked) and publish the ack
   * floor once the server confirmed it: it handles acks in order, so the floor then covers
   * them all. Without one (only dead letters, terminated and unconfirmed) read the floor once
   * they are likely processed.
   */
  private async confirmAndPublish(last: JsMsg | null): Promise<void> {
    if (last) {
      if (await last.ackAck({ timeout: 5000 }).catch(() => false)) await this.publishAckFloor();
    } else {
      setTimeout(() => void this.publishAckFloor(), 100).unref();
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
      const idle = info.num_ack_pending === 0;
      const floor = idle
        ? Math.max(info.ack_floor.stream_seq, info.delivered.stream_seq)
        : info.ack_floor.stream_seq;
      const consumerSeq = idle ? info.delivered.consumer_seq : info.ack_floor.consumer_seq;
      // An answer older than what batches since proved does not move the chain back.
      if (this.chain === null || consumerSeq > this.chain.consumerSeq) {
        this.chain = { consumerSeq, streamSeq: floor };
      }
      this.publishWatermark(floor);
    } catch (err) {
      this.o.logger.debug({ err, item: this.o.item }, 'watermark not published');
    }
  }

  /**
   * Publish `seq` as the watermark when it moves it forward, without holding up the next batch:
   * one put is in flight at a time and the next carries the highest seq asked for meanwhile, so
   * under load there are fewer puts than batches and each is the newest. Best effort: after a
   * failure the server's ack floor is asked again shortly.
   */
  private publishWatermark(seq: number): void {
    this.markWanted = Math.max(this.markWanted, seq);
    if (this.marking || this.markWanted <= this.watermark) return;
    this.marking = (async () => {
      while (this.markWanted > this.watermark) {
        const next = this.markWanted;
        await this.o.watermark(next);
        this.watermark = Math.max(this.watermark, next);
      }
    })()
      .catch((err: unknown) => {
        this.o.logger.debug({ err, item: this.o.item }, 'watermark not published');
        setTimeout(() => void this.publishAckFloor(), 250).unref();
      })
      .finally(() => {
        this.marking = null;
      });
  }

  private record(batch: JsMsg[], result: ApplyResult, started: number): void {
    const m = this.o.metrics;
    m.applied.inc({ item: this.label }, result.applied);
    m.skipped.inc({ item: this.label }, result.skipped);
    const last = batch[batch.length - 1];
    if (last) m.lastAppliedSeq.set({ item: this.label }, last.seq);
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
