import {
  applyStatsEvents,
  attributeText,
  planTokenWrites,
  type StoredTokenEvent,
  type TokenWritePlan,
} from '@cb/domain';
import type { EventStore, LeanKv } from '@cb/nats';
import type { PartitionStats, TokenDoc } from '@cb/schemas';
import type { Naming, TokenIndex } from '@cb/subjects';
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
import { IndexWriter, type IndexAddress } from './index-writer';
import type { ReadModels } from './read-models';
import type { AttributeLookup } from './search-attributes';

interface Cached<T> {
  value: T | null;
  /** KV revision of the key (0 when it never existed): the compare-and-set expectation. */
  revision: number;
}

const CACHE_LIMIT = 100_000;
const CAS_ATTEMPTS = 5;

/**
 * Applies one partition's token events: the ordered indexes first (the token's place, its
 * workflow's list, its search attributes: see IndexWriter), then the token documents (the commit
 * markers: a document's `version` says what is applied); per workflow, the partition's stats with
 * their last applied seq. That seq is also the workflow's applied floor in the partition: a batch
 * is written only if no earlier event lies unapplied between it and the floor, so events are
 * applied in stream order even when a new owner receives them out of order. Every write is
 * compare-and-set against the revision last seen, so a stale writer can never move anything
 * backwards, and is issued only while the lease holds.
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
  /** The search attributes a token's definition version declares. */
  attributes: AttributeLookup;
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
  private readonly attributes: AttributeLookup;
  private readonly index: IndexWriter;
  /** Seqs of the batch no worker received before (so none can have applied them). */
  private readonly firstDeliveries = new Set<number>();

  constructor(options: TokenApplierOptions) {
    this.models = options.models;
    this.naming = options.naming;
    this.partition = options.partition;
    this.store = options.store;
    this.deadLetters = options.deadLetters;
    this.mayWrite = options.mayWrite;
    this.attributes = options.attributes;
    this.index = new IndexWriter(options.models.places, () => this.assertLease());
  }

  reset(): void {
    this.docs = new Map();
    this.stats = new Map();
    this.index.reset();
  }

  async apply(batch: DecodedTokenEvent[], context: BatchContext): Promise<ApplyResult> {
    if (batch.length === 0) return { applied: 0, skipped: 0 };
    // Token ids are unique within a tenant, workflow ids too: both are grouped by tenant.
    const byToken = new Map<string, Group>();
    const byWorkflow = new Map<string, Group>();
    this.firstDeliveries.clear();
    for (const { seq, tenant, event, msg } of batch) {
      if (msg.info.deliveryCount === 1) this.firstDeliveries.add(seq);
      push(byToken, this.naming.tokenKey(tenant, event.tokenId), tenant, { seq, event });
      push(byWorkflow, this.naming.statsKey(tenant, event.workflowId, this.partition), tenant, {
        seq,
        event,
      });
    }
    // Nothing is written unless every earlier event of the batch's workflows in this partition is
    // applied: a new owner can receive later events before the earlier ones still with a previous
    // owner, and a token event applied ahead of an earlier one whose index entry a crashed writer
    // left behind (without its document) would never learn to delete that entry.
    const stats = await Promise.all(
      [...byWorkflow.values()].map(({ tenant, events }) => this.planStats(tenant, events, context)),
    );
    // Token documents and indexes first (idempotent by seq), then the stats (counted once by
    // their last applied seq). A worker that lost its lease meanwhile writes none of them.
    let result: ApplyResult;
    for (let attempt = 0; ; attempt++) {
      try {
        result = await this.applyTokens([...byToken.values()], attempt > 0);
        break;
      } catch (err) {
        // Written meanwhile (a previous owner's late write): start again from what KV holds.
        this.docs = new Map();
        this.index.reset();
        if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
      }
    }
    await Promise.all(stats.map((plan) => this.writeStats(plan, context)));
    if (this.docs.size > CACHE_LIMIT) this.docs = new Map();
    return result;
  }

  /**
   * Every token of the batch: the plans from the current documents, then every index's edit in
   * one wave (each index written once however many of its tokens moved), then the documents —
   * the commit markers: a crash before them leaves the batch to be applied again, and the index
   * edits say "present" / "absent", so writing them twice is writing them once.
   */
  private async applyTokens(groups: Group[], reload: boolean): Promise<ApplyResult> {
    const currents = await Promise.all(groups.map((g) => this.currentDoc(g, reload)));
    const plans = groups.map((g, i) => planTokenWrites(currents[i]!.value, g.events));
    const edits = new IndexEdits(this.naming, this.partition);
    await Promise.all(
      groups.map((g, i) => this.planIndexes(edits, g, currents[i]!.value, plans[i]!)),
    );
    await this.index.apply(edits.all());
    this.assertLease();
    await Promise.all(
      groups.map(async (g, i) => {
        const plan = plans[i]!;
        const key = this.naming.tokenKey(g.tenant, g.events[0]!.event.tokenId);
        if (plan.doc === null) {
          this.docs.set(key, currents[i]!);
          return;
        }
        const revision = await this.models.tokens.put(key, plan.doc, currents[i]!.revision);
        this.docs.set(key, { value: plan.doc, revision });
      }),
    );
    let applied = 0;
    let skipped = 0;
    for (const plan of plans) {
      applied += plan.applied;
      skipped += plan.skipped;
    }
    return { applied, skipped };
  }

  /**
   * The document a token's events apply to: cached, or read — except for a token the batch
   * creates in a first delivery: no worker has seen that creation, so there is no document (the
   * indexes are written from the plan before the document, so the plan's base must be certain).
   */
  private async currentDoc(group: Group, reload: boolean): Promise<Cached<TokenDoc>> {
    const key = this.naming.tokenKey(group.tenant, group.events[0]!.event.tokenId);
    const cached = this.docs.get(key);
    if (cached) return cached;
    const first = inSeqOrderFirst(group.events);
    if (!reload && first.event.type === 'token.created.v1' && this.firstDeliveries.has(first.seq)) {
      return { value: null, revision: 0 };
    }
    return this.load<TokenDoc>(this.models.tokens, key);
  }

  /** The index edits of one token: its place, its workflow's list and its search attributes. */
  private async planIndexes(
    edits: IndexEdits,
    group: Group,
    current: TokenDoc | null,
    plan: TokenWritePlan,
  ): Promise<void> {
    const last = group.events.reduce((a, b) => (b.seq > a.seq ? b : a));
    const { workflowId, tokenId } = last.event;
    const { tenant } = group;
    // Re-issued for the document's own event too (a crash may have come before its indexes).
    if (plan.placePut === null && plan.placeDeletes.length === 0) return;
    for (const place of plan.placeDeletes) {
      edits.set(tenant, workflowId, { kind: 'place', place }, tokenId, false);
    }
    const live = plan.placePut !== null;
    if (plan.placePut) {
      edits.set(tenant, workflowId, { kind: 'place', place: plan.placePut.place }, tokenId, true);
    }
    edits.set(tenant, workflowId, { kind: 'workflow' }, tokenId, live);
    const state = last.event.state;
    const attributes = await this.attributes.of(tenant, workflowId, state.definitionVersion);
    for (const attribute of attributes) {
      const final = plan.placePut ? attributeText(plan.placePut, attribute) : undefined;
      const seen = new Set<string>();
      for (const s of [current, ...group.events.map((e) => e.event.state)]) {
        const text = s && !(s as TokenDoc).deleted ? attributeText(s, attribute) : undefined;
        if (text !== undefined && text !== final) seen.add(text);
      }
      for (const value of seen) {
        edits.set(tenant, workflowId, { kind: 'attribute', attribute, value }, tokenId, false);
      }
      if (final !== undefined) {
        edits.set(
          tenant,
          workflowId,
          { kind: 'attribute', attribute, value: final },
          tokenId,
          true,
        );
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
    if (context.chained) return;
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

/** One batch's edits, per index of this partition: the last wish per token wins. */
class IndexEdits {
  private readonly edits = new Map<string, { at: IndexAddress; ops: Map<string, boolean> }>();

  constructor(
    private readonly naming: Naming,
    private readonly partition: number,
  ) {}

  set(tenant: string, workflowId: string, index: TokenIndex, tokenId: string, present: boolean) {
    const head = this.naming.indexHeadKey(tenant, workflowId, index, this.partition);
    let edit = this.edits.get(head);
    if (!edit) {
      const at: IndexAddress = {
        head,
        chunk: (id) => this.naming.indexChunkKey(tenant, workflowId, index, this.partition, id),
      };
      edit = { at, ops: new Map() };
      this.edits.set(head, edit);
    }
    // A place the token leaves and enters again in one batch: it stays (entering is planned last).
    edit.ops.set(tokenId, present);
  }

  all(): Iterable<{ at: IndexAddress; ops: Map<string, boolean> }> {
    return this.edits.values();
  }
}

function inSeqOrderFirst(events: StoredTokenEvent[]): StoredTokenEvent {
  return events.reduce((a, b) => (b.seq < a.seq ? b : a));
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
