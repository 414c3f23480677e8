import { type PartitionStats, type TokenEvent } from '@cb/schemas';
import { HOURLY_WINDOW_HOURS, hourKey } from './hourly';

const HOUR_MS = 3_600_000;

/**
 * Reference stats of one workflow in one partition, counted one event at a time. Written apart
 * from `applyStatsEvents` on purpose: tests compare the two.
 */
export class FoldStats {
  private seq = 0;
  private readonly places = new Map<string, number>();
  private readonly transitions = new Map<string, number>();
  private readonly stays = new Map<string, { totalMs: number; count: number }>();
  private readonly hourly = new Map<string, { created: number; completed: number }>();
  private fired = 0;
  private created = 0;
  private deleted = 0;
  private completed = 0;

  constructor(
    private readonly workflowId: string,
    private readonly partition: number,
  ) {}

  apply(seq: number, event: TokenEvent): void {
    this.seq = seq;
    if (event.type === 'token.created.v1') {
      this.bump(this.places, event.place, 1);
      this.created++;
      this.hour(event.occurredAt).created++;
    } else if (event.type === 'token.transitioned.v1') {
      this.bump(this.places, event.from, -1);
      this.bump(this.places, event.to, 1);
      this.fired++;
      this.bump(this.transitions, event.transition, 1);
      this.stay(event.from, event.timeInPlaceMs);
      if (event.toFinal) {
        this.completed++;
        this.hour(event.occurredAt).completed++;
      }
    } else if (event.type === 'token.deleted.v1') {
      this.bump(this.places, event.place, -1);
      this.deleted++;
      this.stay(event.place, event.timeInPlaceMs);
    }
    this.prune();
  }

  toStats(): PartitionStats {
    return {
      workflowId: this.workflowId,
      partition: this.partition,
      seq: this.seq,
      places: Object.fromEntries(this.places),
      transitionsFired: this.fired,
      transitions: Object.fromEntries(this.transitions),
      created: this.created,
      deleted: this.deleted,
      completed: this.completed,
      timeInPlace: Object.fromEntries([...this.stays].map(([p, s]) => [p, { ...s }])),
      hourly: Object.fromEntries([...this.hourly].map(([h, c]) => [h, { ...c }])),
    };
  }

  private bump(counts: Map<string, number>, key: string, delta: number): void {
    const n = (counts.get(key) ?? 0) + delta;
    if (n === 0) counts.delete(key);
    else counts.set(key, n);
  }

  private stay(place: string, ms: number): void {
    const s = this.stays.get(place) ?? { totalMs: 0, count: 0 };
    s.totalMs += ms;
    s.count++;
    this.stays.set(place, s);
  }

  private hour(occurredAt: string): { created: number; completed: number } {
    const key = hourKey(occurredAt);
    let counts = this.hourly.get(key);
    if (counts === undefined) {
      counts = { created: 0, completed: 0 };
      this.hourly.set(key, counts);
    }
    return counts;
  }

  /** Drop hours HOURLY_WINDOW_HOURS or more before the newest. */
  private prune(): void {
    const start = (hour: string) => Date.parse(`${hour}:00:00.000Z`);
    const newest = Math.max(...[...this.hourly.keys()].map(start));
    for (const hour of [...this.hourly.keys()]) {
      if (newest - start(hour) >= HOURLY_WINDOW_HOURS * HOUR_MS) this.hourly.delete(hour);
    }
  }
}
