import type { Worker } from 'node:worker_threads';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { compiledWorkflowKey, type GuardRequest, type GuardVerdict } from '@cb/domain';
import type { Logger } from '@cb/logging';
import type { FieldError, TransitionDefinition, WorkflowDefinition } from '@cb/schemas';
import type { FromWorker, GuardSet, ToWorker } from './protocol';
import { Quarantine } from './quarantine';
import { spawnGuardWorker } from './worker-script';

export interface GuardPoolOptions {
  /** Worker threads evaluating guards. */
  workers: number;
  /** Budget of one guard evaluation, in ms: past it the worker is terminated. */
  timeoutMs: number;
  /** Budget for compiling one definition's guards, in ms. */
  compileTimeoutMs: number;
  /** Overruns within `quarantineWindowMs` that quarantine a transition. */
  quarantineStrikes: number;
  quarantineWindowMs: number;
  /** How long a quarantined transition is refused at once. */
  quarantineMs: number;
  /** Heap limit of each worker, in MiB: a guard that allocates past it is abandoned too. */
  workerMemoryMb: number;
  /** Evaluations waiting for a worker at most; more are refused (GuardPoolError). */
  maxQueued?: number;
  /** How long an evaluation may wait for a worker before it is refused (GuardPoolError). */
  maxWaitMs?: number;
  logger: Logger;
  /** Where the pool's metrics go (cb_guard_*); none when absent. */
  registry?: Registry;
  now?: () => number;
}

/** The pool cannot take the work now (saturated, no worker running, or closed): retry later. */
export class GuardPoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardPoolError';
  }
}

/** Compiling a definition's guards: the errors (none = fine), or why it could not be done. */
export type CompileResult = { errors: FieldError[] } | { tooExpensive: string };

interface Batch {
  verdicts: Array<GuardVerdict | undefined>;
  left: number;
  resolve(verdicts: Map<string, GuardVerdict>): void;
  reject(err: Error): void;
  requests: readonly GuardRequest[];
}

type Job =
  | {
      kind: 'evaluate';
      key: string;
      set: () => GuardSet;
      batch: Batch;
      /** Positions in the batch still to evaluate, in order. */
      entries: number[];
      queuedAt: number;
    }
  | {
      kind: 'compile';
      key: string;
      set: () => GuardSet;
      resolve(result: CompileResult): void;
      reject(err: Error): void;
      queuedAt: number;
    };

interface Slot {
  worker: Worker;
  /** Bumped whenever the slot gets a new worker: events of an older one are ignored. */
  generation: number;
  ready: boolean;
  job?: Job;
  /** For an evaluate job: how many of its entries have their verdict. */
  done: number;
  phase: 'compiling' | 'evaluating';
  /** The current job runs under the worker's own watchdog (its definition overran lately). */
  watched: boolean;
  timer?: NodeJS.Timeout;
  stepStarted: number;
  /** Keys this worker has compiled (as far as the pool knows; a miss is answered `missing`). */
  known: Set<string>;
  /** Consecutive start-up failures, for back-off. */
  failures: number;
}

type Outcome = 'passed' | 'failed' | 'too_expensive' | 'quarantined';

const KNOWN_KEYS = 256;
/** How much longer the main thread waits than the budget when the worker's watchdog watches. */
const WATCHDOG_GRACE_MS = 250;
const SWEEP_MS = 100;

/**
 * Guards evaluated off the event loop, each within a time budget no definition or data can
 * exceed: a pool of worker threads, each step (compiling a definition, evaluating one guard)
 * timed by the main thread; a step past its budget terminates the worker (a new one takes its
 * place) and is answered `too-expensive`. A transition that keeps overrunning is quarantined for a
 * cool-down and refused at once. One definition never occupies every worker, so one hostile
 * guard cannot stall the others.
 */
export class GuardPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly busyByKey = new Map<string, number>();
  private readonly quarantine: Quarantine;
  private readonly sets = new WeakMap<WorkflowDefinition, GuardSet>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly maxPerKey: number;
  private readonly metrics: PoolMetrics | undefined;
  private closed = false;
  private readonly readyWaiters: Array<() => void> = [];
  /**
   * A started worker that takes no work: it replaces an abandoned one at once, so an overrun
   * never leaves the pool a worker short while a new thread starts (a new one becomes the spare).
   */
  private spare: Slot;

  constructor(private readonly options: GuardPoolOptions) {
    this.now = options.now ?? Date.now;
    this.maxPerKey = Math.max(1, options.workers - 1);
    this.quarantine = new Quarantine({
      strikes: options.quarantineStrikes,
      windowMs: options.quarantineWindowMs,
      cooldownMs: options.quarantineMs,
      now: this.now,
    });
    this.metrics = options.registry ? poolMetrics(options.registry, this) : undefined;
    for (let i = 0; i < options.workers; i++) this.slots.push(this.newSlot());
    this.spare = this.newSlot();
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  /** Evaluations waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Workers ready to take work. */
  get readyWorkers(): number {
    return this.slots.filter((s) => s.ready).length;
  }

  /** When the quarantine of a transition of a definition ends (ISO), if it is in one. */
  quarantinedUntil(key: string, transition: string): string | undefined {
    const until = this.quarantine.quarantinedUntil(`${key}/${transition}`);
    return until === undefined ? undefined : iso(until);
  }

  /** Transitions in quarantine now. */
  get quarantined(): number {
    return this.quarantine.active;
  }

  /**
   * Resolves once every worker has started (evaluations queue until one has); rejects with
   * GuardPoolError when they have not within `timeoutMs`.
   */
  whenReady(timeoutMs = 30_000): Promise<void> {
    if (this.readyWorkers === this.slots.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.readyWaiters.indexOf(done);
        if (i >= 0) this.readyWaiters.splice(i, 1);
        reject(new GuardPoolError(`the guard workers did not start within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.readyWaiters.push(done);
    });
  }

  /**
   * The verdict of each requested guard of `definition` (keyed by transition id). Never rejects
   * for what a guard or its data does — that is a `too-expensive` verdict —, only with
   * GuardPoolError when the pool cannot take the work.
   */
  evaluate(
    definition: WorkflowDefinition,
    requests: readonly GuardRequest[],
    key = definitionKey(definition),
  ): Promise<Map<string, GuardVerdict>> {
    if (requests.length === 0) return Promise.resolve(new Map());
    return new Promise((resolve, reject) => {
      const batch: Batch = {
        verdicts: requests.map(() => undefined),
        left: requests.length,
        resolve,
        reject,
        requests,
      };
      const entries = requests
        .map((_r, i) => i)
        .filter((i) => !this.settleIfQuarantined(batch, i, key));
      if (entries.length === 0) return;
      this.enqueue({
        kind: 'evaluate',
        key,
        set: () => this.setOf(definition, key),
        batch,
        entries,
        queuedAt: this.now(),
      });
    });
  }

  /**
   * Compile a definition's guards (definition time): their errors, or too expensive to compile.
   * A check only: evaluations compile the stored definition on first use in each worker.
   */
  compile(transitions: readonly TransitionDefinition[], key: string): Promise<CompileResult> {
    return new Promise((resolve, reject) => {
      this.enqueue({
        kind: 'compile',
        key,
        set: () => ({ key, transitions: [...transitions] }),
        resolve,
        reject,
        queuedAt: this.now(),
      });
    });
  }

  /** Terminate the workers; whatever is queued or running is refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    const error = new GuardPoolError('the guard pool is closing');
    for (const job of this.queue.splice(0)) refuse(job, error);
    await Promise.all(
      [...this.slots, this.spare].map(async (slot) => {
        clearTimeout(slot.timer);
        if (slot.job) refuse(slot.job, error);
        slot.job = undefined;
        slot.generation++;
        await slot.worker.terminate();
      }),
    );
  }

  // ---- scheduling ----------------------------------------------------------------------------

  private enqueue(job: Job): void {
    if (this.closed) return refuse(job, new GuardPoolError('the guard pool is closed'));
    if (this.queue.length >= (this.options.maxQueued ?? 1024)) {
      return refuse(job, new GuardPoolError('guard evaluation is saturated; retry shortly'));
    }
    this.queue.push(job);
    this.pump();
  }

  /**
   * Give idle workers the queued jobs in order, skipping a job whose definition already has its
   * share of workers; a job goes to a worker that has its definition compiled when one is idle.
   */
  private pump(): void {
    const idle = this.slots.filter((s) => s.ready && s.job === undefined);
    for (let i = 0; i < this.queue.length && idle.length > 0; i++) {
      const job = this.queue[i]!;
      if (job.kind === 'evaluate') {
        // Quarantine is checked again now: strikes may have come in while it waited.
        job.entries = job.entries.filter((e) => !this.settleIfQuarantined(job.batch, e, job.key));
        if (job.entries.length === 0) {
          this.queue.splice(i--, 1);
          continue;
        }
      }
      if ((this.busyByKey.get(job.key) ?? 0) >= this.maxPerKey) continue;
      // Definitions whose guards overran lately share one lane of all but one worker, so that
      // however many of them there are, a worker is left for the others.
      const suspect = job.kind === 'evaluate' && this.quarantine.hasStrikes(job.key);
      if (suspect && this.suspectsBusy() >= this.maxPerKey) continue;
      const slot = idle.find((s) => s.known.has(job.key)) ?? idle[0]!;
      idle.splice(idle.indexOf(slot), 1);
      this.queue.splice(i--, 1);
      this.dispatch(slot, job);
    }
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.done = 0;
    this.busyByKey.set(job.key, (this.busyByKey.get(job.key) ?? 0) + 1);
    const knows = job.kind === 'evaluate' && slot.known.has(job.key);
    // A definition that overran lately is evaluated under the worker's watchdog: a further overrun
    // then costs the budget, not the thread with every compiled definition in it.
    slot.watched = job.kind === 'evaluate' && this.quarantine.hasStrikes(job.key);
    if (job.kind === 'compile') {
      slot.worker.postMessage({ type: 'compile', job: 0, set: job.set() } satisfies ToWorker);
    } else {
      this.sendEvaluate(slot, job, !knows);
    }
    this.startStep(slot, knows ? 'evaluating' : 'compiling');
    if (job.kind === 'evaluate' && !knows) rememberKey(slot, job.key);
  }

  private sendEvaluate(
    slot: Slot,
    job: Extract<Job, { kind: 'evaluate' }>,
    withSet: boolean,
  ): void {
    const message: ToWorker = {
      type: 'evaluate',
      job: 0,
      key: job.key,
      ...(withSet ? { set: job.set() } : {}),
      requests: job.entries.map((e) => job.batch.requests[e]!),
      ...(slot.watched ? { watchdogMs: this.options.timeoutMs } : {}),
    };
    slot.worker.postMessage(message);
  }

  private startStep(slot: Slot, phase: Slot['phase']): void {
    clearTimeout(slot.timer);
    slot.phase = phase;
    slot.stepStarted = performance.now();
    const budget = phase === 'compiling' ? this.options.compileTimeoutMs : this.options.timeoutMs;
    // Under the worker's watchdog this timer is the backstop: it leaves the watchdog time to act.
    const grace = phase === 'evaluating' && slot.watched ? budget + WATCHDOG_GRACE_MS : budget;
    const generation = slot.generation;
    slot.timer = setTimeout(() => {
      if (slot.generation === generation) this.abandon(slot, `took longer than ${budget} ms`);
    }, grace);
  }

  private suspectsBusy(): number {
    let busy = 0;
    for (const s of this.slots) {
      if (s.job?.kind === 'evaluate' && this.quarantine.hasStrikes(s.job.key)) busy++;
    }
    return busy;
  }

  /** The slot's job is over: free the worker for the next one. */
  private release(slot: Slot): Job | undefined {
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const busy = (this.busyByKey.get(job.key) ?? 1) - 1;
      if (busy <= 0) this.busyByKey.delete(job.key);
      else this.busyByKey.set(job.key, busy);
    }
    return job;
  }

  // ---- worker messages -----------------------------------------------------------------------

  private onMessage(slot: Slot, message: FromWorker): void {
    const job = slot.job;
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        slot.failures = 0;
        if (this.readyWorkers === this.slots.length) {
          for (const resolve of this.readyWaiters.splice(0)) resolve();
        }
        this.pump();
        return;
      case 'missing':
        if (job?.kind !== 'evaluate') return;
        this.sendEvaluate(slot, job, true);
        rememberKey(slot, job.key);
        this.startStep(slot, 'compiling');
        return;
      case 'compiled':
        if (job?.kind === 'compile') job.resolve({ errors: message.errors });
        else this.startStep(slot, 'evaluating');
        return;
      case 'verdict': {
        if (job?.kind !== 'evaluate') return;
        const entry = job.entries[message.index];
        if (entry === undefined) return;
        this.metrics?.seconds.observe((performance.now() - slot.stepStarted) / 1000);
        slot.done = message.index + 1;
        const outcome =
          message.verdict.status === 'too-expensive' ? 'too_expensive' : message.verdict.status;
        this.settle(job.batch, entry, message.verdict, outcome);
        this.startStep(slot, 'evaluating');
        return;
      }
      case 'overrun': {
        if (job?.kind !== 'evaluate') return;
        const entry = job.entries[message.index];
        if (entry === undefined) return;
        slot.done = message.index + 1;
        this.settle(
          job.batch,
          entry,
          this.overran(job, entry, `took longer than ${this.options.timeoutMs} ms`, false),
          'too_expensive',
        );
        this.startStep(slot, 'evaluating');
        return;
      }
      case 'done':
        this.release(slot);
        this.pump();
        return;
      default: {
        const unhandled: never = message;
        throw new Error(`unhandled worker message ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /**
   * The worker's current step overran its budget, or the worker died: terminate it, start a new
   * one, and answer for the step — the guard being evaluated (or, while compiling, every guard
   * waiting) gets `too-expensive` and a strike; the guards after it go back to the queue.
   */
  private abandon(slot: Slot, what: string): void {
    const { phase, done } = slot;
    const job = this.release(slot);
    this.restart(slot, job === undefined ? 'error' : 'overrun');
    if (job?.kind === 'compile') {
      this.options.logger.warn({ key: job.key, reason: what }, 'compiling guards overran');
      job.resolve({ tooExpensive: `compiling the guards ${what}` });
    } else if (job !== undefined) {
      const compiling = phase === 'compiling';
      const culprits = compiling ? job.entries.slice(done) : job.entries.slice(done, done + 1);
      for (const entry of culprits) {
        this.settle(job.batch, entry, this.overran(job, entry, what, compiling), 'too_expensive');
      }
      // The guards after the culprit still deserve an answer, on another worker.
      const rest = job.entries.slice(done + culprits.length);
      if (rest.length > 0) this.queue.unshift({ ...job, entries: rest, queuedAt: this.now() });
    }
    this.pump();
  }

  /** Strike the guard of `entry` for an overrun; its verdict (quarantined if this was one too many). */
  private overran(
    job: Extract<Job, { kind: 'evaluate' }>,
    entry: number,
    what: string,
    compiling: boolean,
  ): GuardVerdict {
    const transition = job.batch.requests[entry]!.transition;
    const until = this.quarantine.strike(`${job.key}/${transition}`, job.key);
    this.metrics?.overruns.inc();
    this.options.logger.warn(
      { key: job.key, transition, reason: what, ...(until && { quarantinedUntil: iso(until) }) },
      until ? 'guard overran its budget again: transition quarantined' : 'guard overran its budget',
    );
    return {
      status: 'too-expensive',
      message: `${compiling ? 'compiling the guards' : 'evaluating the guard'} ${what}`,
      ...(until !== undefined && { quarantinedUntil: iso(until) }),
    };
  }

  // ---- workers -------------------------------------------------------------------------------

  private newSlot(): Slot {
    const slot: Slot = {
      worker: undefined as unknown as Worker,
      generation: 0,
      ready: false,
      done: 0,
      phase: 'evaluating',
      watched: false,
      stepStarted: 0,
      known: new Set(),
      failures: 0,
    };
    this.startWorker(slot);
    return slot;
  }

  private startWorker(slot: Slot): void {
    const generation = ++slot.generation;
    const worker = spawnGuardWorker({ maxOldGenerationSizeMb: this.options.workerMemoryMb });
    slot.worker = worker;
    const current = () => slot.generation === generation && !this.closed;
    worker.on('message', (m: FromWorker) => {
      if (current()) this.onMessage(slot, m);
    });
    worker.on('error', (err) => {
      if (!current()) return;
      this.options.logger.error({ err }, 'guard worker failed');
      this.abandon(slot, `failed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      if (!current()) return;
      this.options.logger.warn({ code }, 'guard worker exited unexpectedly');
      this.abandon(slot, `stopped: the worker exited with code ${code}`);
    });
  }

  /** Terminate the slot's worker and start another (after a back-off if workers keep failing). */
  private restart(slot: Slot, reason: 'overrun' | 'error'): void {
    this.metrics?.restarts.inc({ reason });
    const index = this.slots.indexOf(slot);
    if (index >= 0 && this.spare.ready && !this.closed) {
      // The spare takes the abandoned worker's place; the abandoned slot becomes the next spare.
      this.slots[index] = this.spare;
      this.spare = slot;
    }
    const old = slot.worker;
    slot.generation++;
    slot.ready = false;
    slot.known = new Set();
    void old.terminate();
    if (this.closed) return;
    // Overruns are the guard's doing, not the worker's: they restart at once.
    slot.failures = reason === 'overrun' && slot.failures === 0 ? 0 : slot.failures + 1;
    const delay = slot.failures > 1 ? Math.min(30_000, 250 * 2 ** (slot.failures - 2)) : 0;
    if (delay === 0) this.startWorker(slot);
    else {
      const generation = slot.generation;
      setTimeout(() => {
        if (slot.generation === generation && !this.closed) this.startWorker(slot);
      }, delay).unref();
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private settleIfQuarantined(batch: Batch, index: number, key: string): boolean {
    const transition = batch.requests[index]!.transition;
    const until = this.quarantine.quarantinedUntil(`${key}/${transition}`);
    if (until === undefined) return false;
    this.settle(
      batch,
      index,
      {
        status: 'too-expensive',
        message: `it keeps overrunning its ${this.options.timeoutMs} ms budget; the transition is quarantined until ${iso(until)}`,
        quarantinedUntil: iso(until),
      },
      'quarantined',
    );
    return true;
  }

  private settle(batch: Batch, index: number, verdict: GuardVerdict, outcome: Outcome): void {
    if (batch.verdicts[index] !== undefined) return;
    batch.verdicts[index] = verdict;
    this.metrics?.evaluations.inc({ outcome });
    if (--batch.left > 0) return;
    const result = new Map<string, GuardVerdict>();
    batch.requests.forEach((r, i) => result.set(r.transition, batch.verdicts[i]!));
    batch.resolve(result);
  }

  /** Refuse jobs that waited too long for a worker (none running, or far too much work). */
  private sweep(): void {
    const oldest = this.now() - (this.options.maxWaitMs ?? 2000);
    for (let i = 0; i < this.queue.length; i++) {
      const job = this.queue[i]!;
      if (job.queuedAt > oldest) continue;
      this.queue.splice(i--, 1);
      refuse(job, new GuardPoolError('no guard worker took the evaluation in time; retry shortly'));
    }
  }

  private setOf(definition: WorkflowDefinition, key: string): GuardSet {
    let set = this.sets.get(definition);
    if (set === undefined || set.key !== key) {
      set = { key, transitions: definition.transitions };
      this.sets.set(definition, set);
    }
    return set;
  }
}

function refuse(job: Job, error: Error): void {
  if (job.kind === 'compile') job.reject(error);
  else job.batch.reject(error);
}

/** A definition version's cache key in the pool (without a tenant: for callers with one tenant). */
export function definitionKey(definition: WorkflowDefinition): string {
  return `${definition.id}@${definition.version}`;
}

/** A tenant's definition version's cache key in the pool. */
export function definitionKeyOf(tenant: string, workflowId: string, version: number): string {
  return compiledWorkflowKey(tenant, workflowId, version);
}

function rememberKey(slot: Slot, key: string): void {
  if (slot.known.size >= KNOWN_KEYS) slot.known.clear();
  slot.known.add(key);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

interface PoolMetrics {
  evaluations: Counter<'outcome'>;
  overruns: Counter;
  restarts: Counter<'reason'>;
  seconds: Histogram;
}

function poolMetrics(registry: Registry, pool: GuardPool): PoolMetrics {
  new Gauge({
    name: 'cb_guard_queue_length',
    help: 'Guard evaluations waiting for a worker',
    registers: [registry],
    collect() {
      this.set(pool.queued);
    },
  });
  new Gauge({
    name: 'cb_guard_workers_ready',
    help: 'Guard worker threads ready to evaluate',
    registers: [registry],
    collect() {
      this.set(pool.readyWorkers);
    },
  });
  new Gauge({
    name: 'cb_guard_quarantined_transitions',
    help: 'Transitions whose guard is quarantined after repeated overruns',
    registers: [registry],
    collect() {
      this.set(pool.quarantined);
    },
  });
  return {
    evaluations: new Counter({
      name: 'cb_guard_evaluations_total',
      help: 'Guard verdicts by outcome (passed, failed, too_expensive, quarantined)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    overruns: new Counter({
      name: 'cb_guard_overruns_total',
      help: 'Guard evaluations or compilations abandoned past their time budget',
      registers: [registry],
    }),
    restarts: new Counter({
      name: 'cb_guard_worker_restarts_total',
      help: 'Guard worker threads replaced, by reason (overrun of a budget, error)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    seconds: new Histogram({
      name: 'cb_guard_evaluation_seconds',
      help: 'Time of one guard evaluation as the pool measures it (including the thread hop)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
