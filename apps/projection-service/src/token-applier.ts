import { applyStatsEvents, planTokenWrites, type StoredTokenEvent } from '@cb/domain';
import { NatsPlatformError, type LeanKv } from '@cb/nats';
import type { PartitionStats, PartitionWatermark, TokenDoc } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { ApplyResult, BatchApplier, DecodedTokenEvent } from './batch';
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
 * the partition's stats with their last applied seq. Every write is compare-and-set against
 * the revision last seen, so a stale writer can never go backwards. Then the watermark.
 */
export class TokenApplier implements BatchApplier<DecodedTokenEvent> {
  private docs = new Map<string, Cached<TokenDoc>>();
  private stats = new Map<string, Cached<PartitionStats>>();
  private watermark = 0;

  constructor(
    private readonly models: ReadModels,
    private readonly projector: LeanKv,
    private readonly naming: Naming,
    private readonly partition: number,
  ) {}

  reset(): void {
    this.docs = new Map();
    this.stats = new Map();
  }

  async apply(batch: DecodedTokenEvent[]): Promise<ApplyResult> {
    if (batch.length === 0) return { applied: 0, skipped: 0 };
    const byToken = new Map<string, StoredTokenEvent[]>();
    const byWorkflow = new Map<string, StoredTokenEvent[]>();
    for (const { seq, event } of batch) {
      push(byToken, event.tokenId, { seq, event });
      push(byWorkflow, event.workflowId, { seq, event });
    }
    const tokenResults = Promise.all(
      [...byToken].map(([id, events]) => this.applyToken(id, events)),
    );
    const statsResults = Promise.all(
      [...byWorkflow].map(([wf, events]) => this.applyStats(wf, events)),
    );
    const [tokens] = await Promise.all([tokenResults, statsResults]);
    const last = batch[batch.length - 1]!.seq;
    if (last > this.watermark) {
      const mark: PartitionWatermark = { seq: last, at: new Date().toISOString() };
      await this.projector.put(
        this.naming.watermarkKey(this.models.generation, this.partition),
        mark,
      );
      this.watermark = last;
    }
    if (this.docs.size > CACHE_LIMIT) this.docs = new Map();
    return tokens.reduce(
      (a, r) => ({ applied: a.applied + r.applied, skipped: a.skipped + r.skipped }),
      {
        applied: 0,
        skipped: 0,
      },
    );
  }

  private async applyToken(tokenId: string, events: StoredTokenEvent[]): Promise<ApplyResult> {
    const workflowId = events[0]!.event.workflowId;
    for (let attempt = 0; ; attempt++) {
      const current =
        this.docs.get(tokenId) ?? (await this.load<TokenDoc>(this.models.tokens, tokenId));
      const plan = planTokenWrites(current.value, events);
      const { places, tokens } = this.models;
      await Promise.all([
        ...plan.placeDeletes.map((place) =>
          places.delete(this.naming.placeKey(workflowId, place, tokenId)),
        ),
        ...(plan.placePut
          ? [
              places.put(
                this.naming.placeKey(workflowId, plan.placePut.place, tokenId),
                plan.placePut,
              ),
            ]
          : []),
      ]);
      if (plan.doc === null) {
        this.docs.set(tokenId, current);
        return { applied: plan.applied, skipped: plan.skipped };
      }
      try {
        const revision = await tokens.put(
          this.naming.tokenKey(tokenId),
          plan.doc,
          current.revision,
        );
        this.docs.set(tokenId, { value: plan.doc, revision });
        return { applied: plan.applied, skipped: plan.skipped };
      } catch (err) {
        this.docs.delete(tokenId);
        if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
      }
    }
  }

  private async applyStats(workflowId: string, events: StoredTokenEvent[]): Promise<void> {
    const key = this.naming.statsKey(workflowId, this.partition);
    for (let attempt = 0; ; attempt++) {
      const current =
        this.stats.get(key) ?? (await this.load<PartitionStats>(this.models.stats, key));
      const result = applyStatsEvents(current.value, workflowId, this.partition, events);
      if (result.applied === 0) {
        this.stats.set(key, current);
        return;
      }
      try {
        const revision = await this.models.stats.put(key, result.stats, current.revision);
        this.stats.set(key, { value: result.stats, revision });
        return;
      } catch (err) {
        this.stats.delete(key);
        if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
      }
    }
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

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function isConflict(err: unknown): boolean {
  return err instanceof NatsPlatformError && err.code === 'WRONG_LAST_SEQUENCE';
}
