import { applyStatsEvents, planTokenWrites, type StoredTokenEvent } from '@cb/domain';
import type { EventStore, LeanKv } from '@cb/nats';
import type { PartitionStats, TokenDoc } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import {
  NotYetError,
  type ApplyResult,
  type BatchApplier,
  type BatchContext,
  type DecodedTokenEvent,
} from './batch';
import type { DeadLetters } from './dead-letters';
import { isConflict } from './failures';
import { tokenEventOf } from './decode';
import type { ReadModels } from './read-models';

interface Cached<T> {
  value: T | null;
  /** KV revision of the key (0 when it never existed): the compare-and-set expectation. */
  revision: number;
}

const CACHE_LIMIT = 100_000;
const CAS_ATTEMPTS = 5;

/**
 * Applies one partition's token events: per token, place-index changes first and the token
 * document last (it is the commit marker: its `version` says what is applied); per workflow,
 * the partition's stats with their last applied seq. That seq is also the workflow's applied
 * floor in the partition: a batch is written only if no earlier event lies unapplied between it
 * and the floor, so events are applied in stream order even when a new owner receives them out
 * of order. Documents and stats are compare-and-set against the revision last seen, so a stale
 * writer can never move them backwards; place entries are plain puts and deletes, so every write
 * is issued only while the lease holds.
 */
export interface TokenApplierOptions {
  models: ReadModels;
  naming: Naming;
  partition: number;
  /** Direct reads of the event stream (to look for an earlier, unapplied event). */
  store: EventStore;
  /** Dead-lettered events are never applied, so they leave no gap. */
  deadLetters: DeadLetterLookup;
  /** Whether this worker may still write (its lease is valid). */
  mayWrite: () => boolean;
}

export type DeadLetterLookup = Pick<DeadLetters, 'contains'>;

export class TokenApplier implements BatchApplier<DecodedTokenEvent> {
  private docs = new Map<string, Cached<TokenDoc>>();
  private stats = new Map<string, Cached<PartitionStats>>();

  private readonly models: ReadModels;
  private readonly naming: Naming;
  private readonly partition: number;
  private readonly store: EventStore;
  private readonly deadLetters: DeadLetterLookup;
  private readonly mayWrite: () => boolean;

  constructor(options: TokenApplierOptions) {
    this.models = options.models;
    this.naming = options.naming;
    this.partition = options.partition;
    this.store = options.store;
    this.deadLetters = options.deadLetters;
    this.mayWrite = options.mayWrite;
  }

  reset(): void {
    this.docs = new Map();
    this.stats = new Map();
  }

  async apply(batch: DecodedTokenEvent[], context: BatchContext): Promise<ApplyResult> {
    if (batch.length === 0) return { applied: 0, skipped: 0 };
    // Token ids are unique within a tenant, workflow ids too: both are grouped by tenant.
    const byToken = new Map<string, Group>();
    const byWorkflow = new Map<string, Group>();
    for (const { seq, tenant, event } of batch) {
      push(byToken, this.naming.tokenKey(tenant, event.tokenId), tenant, { seq, event });
      push(byWorkflow, this.naming.statsKey(tenant, event.workflowId, this.partition), tenant, {
        seq,
        event,
      });
    }
    // Nothing is written unless every earlier event of the batch's workflows in this partition is
    // applied: a new owner can receive later events before the earlier ones still with a previous
    // owner, and a token event applied ahead of an earlier one whose place entry a crashed writer
    // left behind (without its document) would never learn to delete that entry.
    const stats = await Promise.all(
      [...byWorkflow.values()].map(({ tenant, events }) => this.planStats(tenant, events, context)),
    );
    // Token documents and place entries first (idempotent by seq), then the stats (counted once
    // by their last applied seq). A worker that lost its lease meanwhile writes none of them.
    const tokens = await Promise.all(
      [...byToken.values()].map(({ tenant, events }) => this.applyToken(tenant, events)),
    );
    await Promise.all(stats.map((plan) => this.writeStats(plan, context)));
    if (this.docs.size > CACHE_LIMIT) this.docs = new Map();
    return tokens.reduce(
      (a, r) => ({ applied: a.applied + r.applied, skipped: a.skipped + r.skipped }),
      {
        applied: 0,
        skipped: 0,
      },
    );
  }

  private async applyToken(tenant: string, events: StoredTokenEvent[]): Promise<ApplyResult> {
    const { workflowId, tokenId } = events[0]!.event;
    const key = this.naming.tokenKey(tenant, tokenId);
    for (let attempt = 0; ; attempt++) {
      const current = this.docs.get(key) ?? (await this.load<TokenDoc>(this.models.tokens, key));
      const plan = planTokenWrites(current.value, events);
      const { places, tokens } = this.models;
      // Place entries are not compare-and-set: a writer whose lease ended could put back a place
      // the next owner already left. So every write waits for the lease, like the stats do.
      this.assertLease();
      await Promise.all([
        ...plan.placeDeletes.map((place) =>
          places.delete(this.naming.placeKey(tenant, workflowId, place, tokenId)),
        ),
        ...(plan.placePut
          ? [
              places.put(
                this.naming.placeKey(tenant, workflowId, plan.placePut.place, tokenId),
                plan.placePut,
              ),
            ]
          : []),
      ]);
      if (plan.doc === null) {
        this.docs.set(key, current);
        return { applied: plan.applied, skipped: plan.skipped };
      }
      this.assertLease();
      try {
        const revision = await tokens.put(key, plan.doc, current.revision);
        this.docs.set(key, { value: plan.doc, revision });
        return { applied: plan.applied, skipped: plan.skipped };
      } catch (err) {
        this.docs.delete(key);
        if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
      }
    }
  }

  /**
   * The stats after the batch, once it is certain that no earlier event of the workflow in this
   * partition is still unapplied (else a GapError: the batch waits for it).
   */
  private async planStats(
    tenant: string,
    events: StoredTokenEvent[],
    context: BatchContext,
  ): Promise<StatsPlan> {
    const workflowId = events[0]!.event.workflowId;
    const key = this.naming.statsKey(tenant, workflowId, this.partition);
    const current =
      this.stats.get(key) ?? (await this.load<PartitionStats>(this.models.stats, key));
    const result = applyStatsEvents(current.value, workflowId, this.partition, events);
    if (result.applied > 0) {
      await this.assertNoGap(tenant, workflowId, current.value?.seq ?? 0, events, context);
    }
    return { tenant, key, events, current, next: result.applied > 0 ? result.stats : null };
  }

  private async writeStats(plan: StatsPlan, context: BatchContext): Promise<void> {
    let { current, next } = plan;
    for (let attempt = 0; ; attempt++) {
      if (next === null) {
        this.stats.set(plan.key, current);
        return;
      }
      this.assertLease();
      try {
        const revision = await this.models.stats.put(plan.key, next, current.revision);
        this.stats.set(plan.key, { value: next, revision });
        return;
      } catch (err) {
        this.stats.delete(plan.key);
        if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
        // Written meanwhile (a previous owner's late write): count against what is there now.
        ({ current, next } = await this.planStats(plan.tenant, plan.events, context));
      }
    }
  }

  /**
   * Stats skip events at or below their last applied seq, so they must never move past an event
   * of this workflow and partition that was not applied: each new event must be the very next
   * one of its subjects in the stream (what is dead-lettered, or will be, does not count). The
   * first is always checked (one direct get); the others only when the batch cannot prove by
   * its consumer sequences that nothing lies between them.
   */
  private async assertNoGap(
    tenant: string,
    workflowId: string,
    appliedSeq: number,
    events: StoredTokenEvent[],
    context: BatchContext,
  ): Promise<void> {
    const fresh = events
      .map((e) => e.seq)
      .filter((seq) => seq > appliedSeq)
      .sort((a, b) => a - b);
    const pairs = fresh.map((seq, i) => [i === 0 ? appliedSeq : fresh[i - 1]!, seq] as const);
    const checks = context.contiguous ? pairs.slice(0, 1) : pairs;
    await Promise.all(
      checks.map(([after, seq]) => this.assertNextAfter(tenant, workflowId, after, seq)),
    );
  }

  private async assertNextAfter(
    tenant: string,
    workflowId: string,
    after: number,
    expected: number,
  ): Promise<void> {
    const subject = this.naming.partitionWorkflowFilter(this.partition, tenant, workflowId);
    let from = after + 1;
    for (;;) {
      const next = await this.store.nextOnSubject(subject, from);
      if (next === null || next.seq >= expected) return;
      const event = tokenEventOf(this.naming, this.partition, next.subject, next.data);
      if (event.ok && !(await this.deadLetters.contains(next.subject, next.seq))) {
        throw new GapError(workflowId, this.partition, next.seq, expected);
      }
      from = next.seq + 1;
    }
  }

  /**
   * Checked right before each group of writes: the lease stays valid only for a share of its
   * time, so writes issued while it holds land before anyone else may take the partition over.
   */
  private assertLease(): void {
    if (!this.mayWrite()) throw new LeaseLostError();
  }

  private async load<T>(kv: LeanKv, key: string): Promise<Cached<T>> {
    const entry = await kv.get(key);
    if (entry === null) return { value: null, revision: 0 };
    return {
      value: entry.operation === 'PUT' ? (entry.json<T>() ?? null) : null,
      revision: entry.revision,
    };
  }
}

interface StatsPlan {
  tenant: string;
  key: string;
  events: StoredTokenEvent[];
  current: Cached<PartitionStats>;
  /** The stats to write, or null when the batch adds nothing to them. */
  next: PartitionStats | null;
}

interface Group {
  tenant: string;
  events: StoredTokenEvent[];
}

function push(map: Map<string, Group>, key: string, tenant: string, event: StoredTokenEvent): void {
  const group = map.get(key);
  if (group) group.events.push(event);
  else map.set(key, { tenant, events: [event] });
}

/** The lease ended while the batch was being applied: nothing more may be written or acked. */
export class LeaseLostError extends NotYetError {
  constructor() {
    super('the lease ended while applying the batch');
    this.name = 'LeaseLostError';
  }
}

/** An earlier event of the workflow in this partition is not applied yet (with another worker). */
export class GapError extends NotYetError {
  constructor(workflowId: string, partition: number, missing: number, first: number) {
    super(
      `${workflowId} in partition ${partition}: event ${missing} is not applied yet, ${first} must wait`,
    );
    this.name = 'GapError';
  }
}
