import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { diffTimers, mayFire, planTimers, timerFireKey, type TokenTimer } from '@cb/domain';
import type { LeaseHandle } from '@cb/leases';
import type { Logger } from '@cb/logging';
import {
  decodeEvent,
  decodeJson,
  encodeJson,
  isTokenEvent,
  kvOperation,
  scanStream,
  type RequestMux,
} from '@cb/nats';
import { compileValidator, TimerEntry } from '@cb/schemas';
import { kvStreamName, kvSubjectPrefix, type Naming } from '@cb/subjects';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FireClient } from './fire-client';
import type { AutomationMetrics } from './metrics';
import { TimerHeap, type Scheduled } from './timer-heap';
import type { TimerRulesCache } from './timer-rules-cache';

export interface PartitionTimersOptions {
  partition: number;
  naming: Naming;
  nc: NatsConnection;
  mux: RequestMux;
  js: JetStreamClient;
  /** The timers bucket. */
  kv: KV;
  consumer: string;
  lease: LeaseHandle;
  rules: TimerRulesCache;
  fire: FireClient;
  metrics: AutomationMetrics;
  logger: Logger;
  /** Fires in flight at once. */
  concurrency: number;
}

interface Held {
  entry: TimerEntry;
  revision: number;
}

/** setTimeout's longest delay; a timer due later is simply looked at again then. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** A fire that could not reach the command service is tried again this much later. */
const UNAVAILABLE_RETRY_MS = 1000;
/** How long loading a partition's timers may take (then it is tried again). */
const LOAD_TIMEOUT_MS = 60_000;
/** Refusals that mean the token changed since the fire was decided: decide again on its state. */
const STALE = new Set(['VERSION_MISMATCH', 'CONFLICT']);
const checkEntry = compileValidator(TimerEntry);

/**
 * The timers of one owned partition. On start it loads the partition's timer entries from the
 * timers bucket into memory and a min-heap, then consumes the partition's token events in stream
 * order (its durable consumer allows one unacknowledged event, so a takeover never sees events
 * out of order): each event re-plans its token's timers (`planTimers`), writes the entry with
 * compare-and-set, and schedules what it armed. One timeout waits for the earliest timer; nothing
 * scans, so pending timers cost nothing until one is due. A due timer fires through the command
 * service when `mayFire` allows, with its `timerFireKey` and the version it was decided on, so it
 * is written at most once however often it is tried (a crash, a takeover).
 */
export class PartitionTimers {
  private readonly held = new Map<string, Held>();
  private readonly heap = new TimerHeap();
  /** Timers in the heap or being fired (see `idOf`): each is scheduled once. */
  private readonly scheduled = new Set<string>();
  private pending = 0;
  private timeout: NodeJS.Timeout | null = null;
  private timeoutAt = Infinity;
  private inFlight = 0;
  private stopping = false;
  private messages: ConsumerMessages | null = null;
  private consuming: Promise<void> = Promise.resolve();
  /** Entry writes, one at a time: the reactor's and the fires' share one revision per key. */
  private writes: Promise<unknown> = Promise.resolve();
  private unregister: (() => void) | null = null;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(private readonly o: PartitionTimersOptions) {}

  private get active(): boolean {
    return !this.stopping && this.o.lease.valid();
  }

  /** Load the partition's timers (overdue ones fire at once, in due order), then consume. */
  async start(): Promise<void> {
    this.unregister = this.o.metrics.reportPending(this.o.partition, () => this.pending);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.load();
        break;
      } catch (err) {
        if (!this.active) return;
        this.o.logger.warn({ err, partition: this.o.partition }, 'loading timers failed; retrying');
        this.held.clear();
        this.pending = 0;
        await sleep(Math.min(5000, 250 * 2 ** attempt));
      }
    }
    if (this.stopping) return;
    for (const [key, { entry }] of this.held) {
      for (const t of entry.timers) {
        if (!entry.failed.some((f) => same(f, t))) this.schedule(key, t);
      }
    }
    this.o.logger.info(
      { partition: this.o.partition, tokens: this.held.size, timers: this.pending },
      'partition timers loaded',
    );
    this.watchdog = setInterval(() => {
      if (!this.o.lease.valid()) void this.messages?.close().catch(() => undefined);
    }, 100);
    this.consuming = this.consume();
  }

  /** Stop firing and consuming; waits for the fires in flight. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timeout) clearTimeout(this.timeout);
    if (this.watchdog) clearInterval(this.watchdog);
    await this.messages?.close().catch(() => undefined);
    await this.consuming;
    while (this.inFlight > 0) await sleep(20);
    await this.writes;
    this.unregister?.();
  }

  /**
   * Every timer entry of the partition, as one key-range scan (its completion counted against
   * the consumer's pending count at creation, so a slow delivery never ends it early).
   */
  private async load(): Promise<void> {
    const { naming, partition } = this.o;
    const bucket = naming.timersBucket;
    const prefix = kvSubjectPrefix(bucket);
    const { messages } = await scanStream(
      this.o.nc,
      this.o.mux,
      kvStreamName(bucket),
      prefix + naming.timerKeyFilter(partition),
      { start: { deliver: 'last_per_subject' }, timeoutMs: LOAD_TIMEOUT_MS },
    );
    for (const m of messages) {
      const key = m.subject.slice(prefix.length);
      if (kvOperation(m.headers) !== 'PUT') continue;
      const entry = decodeJson(m.data);
      if (!checkEntry.check(entry)) {
        this.o.logger.warn({ key }, 'ignoring an invalid timer entry');
        continue;
      }
      this.setHeld(key, { entry, revision: m.seq });
    }
  }

  private setHeld(key: string, held: Held | undefined): void {
    const before = this.held.get(key);
    this.pending -= before?.entry.timers.length ?? 0;
    if (held) this.held.set(key, held);
    else this.held.delete(key);
    this.pending += held?.entry.timers.length ?? 0;
  }

  // ---- the reactor: token events → timer entries ----------------------------------------------

  private async consume(): Promise<void> {
    for (let attempt = 0; this.active; attempt++) {
      try {
        const consumer = await this.o.js.consumers.get(this.o.naming.stream, this.o.consumer);
        const messages = await consumer.consume({ max_messages: 16, expires: 1000 });
        this.messages = messages;
        if (!this.active) break;
        for await (const m of messages) {
          // Unacknowledged, it is redelivered to whoever owns the partition next.
          if (!this.active || !(await this.applyWithRetry(m))) break;
          m.ack();
          attempt = 0;
        }
      } catch (err) {
        if (!this.active) break;
        this.o.logger.warn({ err, partition: this.o.partition }, 'consuming failed; retrying');
        await sleep(Math.min(5000, 250 * 2 ** attempt));
      } finally {
        await this.messages?.close().catch(() => undefined);
        this.messages = null;
      }
    }
  }

  /** Apply an event, retrying (holding it) while that fails; false once the lease is gone. */
  private async applyWithRetry(m: JsMsg): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.exclusive(() => this.apply(m));
        return true;
      } catch (err) {
        if (!this.active) return false;
        if (attempt === 0) {
          this.o.logger.warn({ err, seq: m.seq }, 'applying an event to timers failed; retrying');
        }
        await sleep(Math.min(5000, 250 * 2 ** attempt));
        m.working();
      }
    }
  }

  private async apply(m: JsMsg): Promise<void> {
    const { naming, partition } = this.o;
    const address = naming.parseTokenSubject(m.subject);
    const decoded = decodeEvent(m.data);
    if (address?.partition !== partition || !decoded.ok || !isTokenEvent(decoded.event)) return;
    const event = decoded.event;
    if (event.tokenId !== address.tokenId || event.workflowId !== address.workflowId) return;
    const key = naming.timerKey(address.tenant, event.tokenId);
    const held = this.held.get(key);
    if (held && m.seq <= held.entry.seq) return;
    const version = event.state.definitionVersion;
    const rules = await this.o.rules.get(address.tenant, event.workflowId, version);
    if (!rules) {
      this.o.logger.warn(
        { seq: m.seq, workflowId: event.workflowId, version },
        'a token event of a definition version not found: no timers',
      );
      return;
    }
    if (!held && rules.rules.length === 0) return;
    const plan = planTimers(rules, held?.entry, { seq: m.seq, event });
    if (!plan.ok) {
      // Tokens are stored only in places with timed transitions: elsewhere nothing is armed.
      const timed = rules.rules.some((r) => r.from.has(event.state.place));
      if (plan.reason !== 'place-entry-unknown' || timed) {
        this.o.logger.warn({ seq: m.seq, reason: plan.reason }, plan.message);
      }
      return;
    }
    const next = plan.timers;
    if (next.status === 'live' && (next.timers.length > 0 || next.unarmed.length > 0)) {
      const entry: TimerEntry = {
        ...next,
        tenant: address.tenant,
        timers: [...next.timers],
        unarmed: [...next.unarmed],
        failed: [],
      };
      await this.write(key, entry, held?.revision);
    } else if (held) {
      await this.o.kv.delete(key, { previousSeq: held.revision });
      this.setHeld(key, undefined);
    }
    for (const t of diffTimers(held?.entry, next).cancelled) this.scheduled.delete(idOf(key, t));
    // Armed timers, and those whose fire was refused before: the token changed, so try again.
    for (const t of next.timers) this.schedule(key, t);
  }

  /** Create or compare-and-set the entry; on a conflict read it again and throw. */
  private async write(key: string, entry: TimerEntry, revision: number | undefined): Promise<void> {
    try {
      const data = encodeJson(entry);
      const rev =
        revision === undefined
          ? await this.o.kv.create(key, data)
          : await this.o.kv.update(key, data, revision);
      this.setHeld(key, { entry, revision: rev });
    } catch (err) {
      const e = await this.o.kv.get(key).catch(() => null);
      const entry = e?.operation === 'PUT' ? e.json<unknown>() : undefined;
      this.setHeld(key, e && checkEntry.check(entry) ? { entry, revision: e.revision } : undefined);
      throw err;
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.writes.then(work, work);
    this.writes = run.catch(() => undefined);
    return run;
  }

  // ---- the scheduler: due timers → FireTransition ---------------------------------------------

  private schedule(key: string, t: TokenTimer, atMs?: number): void {
    const id = idOf(key, t);
    if (this.scheduled.has(id)) return;
    this.scheduled.add(id);
    const dueMs = Date.parse(t.dueAt);
    this.heap.push({ atMs: atMs ?? dueMs, dueMs, key, ...t });
    this.arm();
  }

  /** One timeout, at the earliest scheduled time (none while the fires in flight are at the limit). */
  private arm(): void {
    const top = this.heap.peek();
    if (!top || this.stopping || this.inFlight >= this.o.concurrency) return;
    if (this.timeout && this.timeoutAt <= top.atMs) return;
    if (this.timeout) clearTimeout(this.timeout);
    this.timeoutAt = top.atMs;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, top.atMs - Date.now()));
    this.timeout = setTimeout(() => {
      this.timeout = null;
      this.timeoutAt = Infinity;
      this.drain();
    }, delay);
  }

  /** Fire what is due, in due order, up to the concurrency limit. */
  private drain(): void {
    const now = Date.now();
    while (this.active && this.inFlight < this.o.concurrency) {
      const top = this.heap.peek();
      if (!top || top.atMs > now) break;
      this.heap.pop();
      this.inFlight++;
      void this.attempt(top)
        .catch((err: unknown) => {
          this.o.logger.error({ err, key: top.key }, 'timer attempt failed');
        })
        .finally(() => {
          this.inFlight--;
          this.drain();
        });
    }
    this.arm();
  }

  private async attempt(s: Scheduled): Promise<void> {
    const timer: TokenTimer = { transition: s.transition, dueAt: s.dueAt, armedBy: s.armedBy };
    const id = idOf(s.key, timer);
    const held = this.held.get(s.key);
    const verdict = mayFire(timer, held?.entry, new Date().toISOString());
    if (!verdict.fire || !held) {
      this.scheduled.delete(id);
      if (!verdict.fire && verdict.reason === 'not-due') this.schedule(s.key, timer);
      return;
    }
    const { tenant, workflowId, tokenId } = held.entry;
    const outcome = await this.o.fire.fire({
      command: { type: 'FireTransition', workflowId, tokenId, transition: timer.transition },
      principal: { tenant, keyId: 'system' },
      triggeredBy: 'timer',
      expectedVersion: verdict.expectedVersion,
      idempotencyKey: timerFireKey(tenant, tokenId, timer.armedBy, timer.transition),
    });
    this.scheduled.delete(id);
    const m = this.o.metrics;
    if (outcome.kind === 'fired') {
      const delay = (Date.now() - s.dueMs) / 1000;
      m.fired.inc();
      m.fireDelay.observe(Math.max(0, delay));
      if (delay > 1) m.late.inc();
      return;
    }
    if (outcome.kind === 'unavailable') {
      m.fireErrors.inc();
      this.o.logger.warn({ key: s.key, err: outcome.message }, 'timer fire not sent; retrying');
      this.schedule(s.key, timer, Date.now() + UNAVAILABLE_RETRY_MS);
      return;
    }
    if (outcome.code === 'TOKEN_NOT_FOUND') return;
    const changed = (this.held.get(s.key)?.entry.seq ?? 0) !== verdict.expectedVersion;
    if (STALE.has(outcome.code) || changed) {
      // An event landed in between: decide again on it now if it is applied, else once it is.
      if (changed) this.schedule(s.key, timer);
      return;
    }
    m.refused.inc({ reason: refusalOf(outcome.code) });
    await this.exclusive(() =>
      this.recordRefusal(
        s.key,
        timer,
        verdict.expectedVersion,
        `${outcome.code}: ${outcome.message}`,
      ),
    );
  }

  /** Show the refusal on the timer's entry (`lastError`); the token's next event tries again. */
  private async recordRefusal(
    key: string,
    t: TokenTimer,
    version: number,
    error: string,
  ): Promise<void> {
    const held = this.held.get(key);
    if (!held || held.entry.seq !== version) {
      this.schedule(key, t);
      return;
    }
    const failed = [
      ...held.entry.failed.filter((f) => f.transition !== t.transition),
      { ...t, error: error.slice(0, 1024) },
    ];
    await this.write(key, { ...held.entry, failed }, held.revision);
  }
}

function idOf(key: string, t: TokenTimer): string {
  return `${key}=${t.transition}=${t.armedBy}=${t.dueAt}`;
}

function same(a: TokenTimer, b: TokenTimer): boolean {
  return a.transition === b.transition && a.armedBy === b.armedBy && a.dueAt === b.dueAt;
}

function refusalOf(code: string): 'guard' | 'not-enabled' | 'other' {
  if (code.startsWith('GUARD_')) return 'guard';
  return code === 'TRANSITION_NOT_ENABLED' ? 'not-enabled' : 'other';
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
