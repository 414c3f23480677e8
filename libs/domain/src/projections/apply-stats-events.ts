import {
  type HourlyCounts,
  type PartitionStats,
  type TimeInPlace,
  type TokenEvent,
} from '@cb/schemas';
import { emptyStats } from './empty-stats';
import { hourKey, pruneHourly } from './hourly';
import { inSeqOrder, type StoredTokenEvent } from './stored-event';

/**
 * Count a batch of one workflow's events of one partition into its stats. Events at or before
 * `current.seq` are skipped, so a redelivered event is never counted twice; `seq` becomes the
 * last applied event's. The input is not modified.
 */
export function applyStatsEvents(
  current: PartitionStats | null,
  workflowId: string,
  partition: number,
  events: StoredTokenEvent[],
): { stats: PartitionStats; applied: number; skipped: number } {
  const counts = new Counts(current ?? emptyStats(workflowId, partition));
  let applied = 0;
  let skipped = 0;
  for (const { seq, event } of inSeqOrder(events)) {
    if (event.workflowId !== workflowId) {
      throw new RangeError(`applyStatsEvents: event of "${event.workflowId}" in "${workflowId}"`);
    }
    if (seq <= counts.stats.seq) {
      skipped++;
      continue;
    }
    counts.add(event);
    counts.stats.seq = seq;
    applied++;
  }
  return { stats: counts.result(), applied, skipped };
}

/**
 * A working copy. Records are rebuilt through Maps so that any id, `__proto__` included, is an
 * own key (assignment to `record['__proto__']` would set the prototype instead).
 */
class Counts {
  readonly stats: PartitionStats;
  private readonly places: Map<string, number>;
  private readonly transitions: Map<string, number>;
  private readonly timeInPlace: Map<string, TimeInPlace>;
  private readonly hourly: Map<string, HourlyCounts>;

  constructor(current: PartitionStats) {
    this.stats = { ...current };
    this.places = new Map(Object.entries(current.places));
    this.transitions = new Map(Object.entries(current.transitions));
    this.timeInPlace = new Map(Object.entries(current.timeInPlace));
    this.hourly = new Map(Object.entries(current.hourly));
  }

  add(event: TokenEvent): void {
    const s = this.stats;
    switch (event.type) {
      case 'token.created.v1':
        this.move(null, event.place);
        s.created++;
        this.hour(event.occurredAt, { created: 1, completed: 0 });
        return;
      case 'token.transitioned.v1':
        this.move(event.from, event.to);
        s.transitionsFired++;
        this.transitions.set(event.transition, (this.transitions.get(event.transition) ?? 0) + 1);
        this.stay(event.from, event.timeInPlaceMs);
        if (event.toFinal) {
          s.completed++;
          this.hour(event.occurredAt, { created: 0, completed: 1 });
        }
        return;
      case 'token.updated.v1':
        return;
      case 'token.deleted.v1':
        this.move(event.place, null);
        s.deleted++;
        this.stay(event.place, event.timeInPlaceMs);
        return;
      default: {
        const unhandled: never = event;
        throw new Error(`unhandled token event ${JSON.stringify(unhandled)}`);
      }
    }
  }

  result(): PartitionStats {
    return {
      ...this.stats,
      places: Object.fromEntries(this.places),
      transitions: Object.fromEntries(this.transitions),
      timeInPlace: Object.fromEntries(this.timeInPlace),
      hourly: pruneHourly(Object.fromEntries(this.hourly)),
    };
  }

  /** A token leaves `from` and enters `to`; a place whose count reaches 0 is removed. */
  private move(from: string | null, to: string | null): void {
    if (from !== null) this.addToPlace(from, -1);
    if (to !== null) this.addToPlace(to, 1);
  }

  private addToPlace(place: string, delta: number): void {
    const count = (this.places.get(place) ?? 0) + delta;
    if (count === 0) this.places.delete(place);
    else this.places.set(place, count);
  }

  private stay(place: string, ms: number): void {
    const { totalMs, count } = this.timeInPlace.get(place) ?? { totalMs: 0, count: 0 };
    this.timeInPlace.set(place, { totalMs: totalMs + ms, count: count + 1 });
  }

  private hour(occurredAt: string, add: HourlyCounts): void {
    const key = hourKey(occurredAt);
    const { created, completed } = this.hourly.get(key) ?? { created: 0, completed: 0 };
    this.hourly.set(key, { created: created + add.created, completed: completed + add.completed });
  }
}
