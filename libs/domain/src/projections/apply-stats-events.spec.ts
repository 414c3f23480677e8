import { type PartitionStats } from '@cb/schemas';
import { compileWorkflow } from '../workflow';
import { compiledFixture, fixture, stored } from '../testing/fixtures';
import { tokenLife } from '../testing/token-life';
import { applyStatsEvents } from './apply-stats-events';
import { emptyStats } from './empty-stats';
import { type StoredTokenEvent } from './stored-event';

const review = compiledFixture('document_review');
const HOUR = 3_600_000;

const apply = (current: PartitionStats | null, events: StoredTokenEvent[]) =>
  applyStatsEvents(current, 'document_review', 3, events);

/** Deep-freeze so a test fails if the function modifies its input. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(frozen);
    Object.freeze(value);
  }
  return value;
}

describe('applyStatsEvents', () => {
  it('given no stats, when tokens are created, moved and completed, then every counter follows', () => {
    const a = tokenLife(review, 'a');
    const b = tokenLife(review, 'b');
    const events = [
      a.create({}, { seq: 1, ms: 0 }),
      b.create({}, { seq: 2, ms: 30 * 60_000 }),
      a.fire('submit', { seq: 3, ms: 90 * 60_000 }),
      a.fire('review', { seq: 4, ms: 100 * 60_000 }),
      a.fire('approve', { seq: 6, ms: 130 * 60_000 }),
    ];

    const { stats, applied, skipped } = apply(null, events);

    expect(stats).toEqual({
      workflowId: 'document_review',
      partition: 3,
      seq: 6,
      places: { draft: 1, approved: 1 },
      transitionsFired: 3,
      transitions: { submit: 1, review: 1, approve: 1 },
      created: 2,
      deleted: 0,
      completed: 1,
      timeInPlace: {
        draft: { totalMs: 90 * 60_000, count: 1 },
        pending_review: { totalMs: 10 * 60_000, count: 1 },
        reviewed: { totalMs: 30 * 60_000, count: 1 },
      },
      hourly: {
        '2024-05-01T10': { created: 2, completed: 0 },
        '2024-05-01T12': { created: 0, completed: 1 },
      },
    });
    expect({ applied, skipped }).toEqual({ applied: 5, skipped: 0 });
  });

  it('given a token, when updated, then only seq moves', () => {
    const life = tokenLife(review);
    const before = apply(null, [life.create()]).stats;

    const { stats, applied } = apply(before, [life.update({ n: 1 }, { seq: 10 })]);

    expect(stats).toEqual({ ...before, seq: 10 });
    expect(applied).toBe(1);
  });

  it('given a token in pending_review, when deleted, then its place count goes and its stay counts', () => {
    const life = tokenLife(review);
    const before = apply(null, [life.create({}, { ms: 0 }), life.fire('submit', { ms: 1000 })]);

    const { stats } = apply(before.stats, [life.remove({ seq: 5, ms: 61_000 })]);

    expect(stats.places).toEqual({});
    expect(stats.deleted).toBe(1);
    expect(stats.created).toBe(1);
    expect(stats.timeInPlace).toEqual({
      draft: { totalMs: 1000, count: 1 },
      pending_review: { totalMs: 60_000, count: 1 },
    });
    expect(stats.seq).toBe(5);
  });

  describe('duplicates and redeliveries', () => {
    const history = () => {
      const a = tokenLife(review, 'a');
      const b = tokenLife(review, 'b');
      return [
        a.create({}, { seq: 1 }),
        b.create({}, { seq: 2 }),
        a.fire('submit', { seq: 4 }),
        b.fire('submit', { seq: 5 }),
        a.fire('review', { seq: 7 }),
        a.fire('approve', { seq: 8 }),
        b.remove({ seq: 11 }),
      ];
    };

    it('given stats with a batch applied, when the same batch is redelivered, then nothing is counted twice', () => {
      const events = history();
      const once = apply(null, events).stats;

      const again = apply(frozen(once), events);

      expect(again).toEqual({ stats: once, applied: 0, skipped: 7 });
    });

    it('given stats up to seq 5, when a batch overlaps it, then the result equals one clean pass', () => {
      const events = history();
      const first = apply(null, events.slice(0, 4));

      const second = apply(frozen(first.stats), events.slice(2));

      expect(second.stats).toEqual(apply(null, events).stats);
      expect(second).toMatchObject({ applied: 3, skipped: 2 });
    });

    it('given stats at seq 8, when an event at or before 8 arrives, then it is skipped', () => {
      const events = history();
      const upTo8 = apply(null, events.slice(0, 6)).stats;

      const late = apply(upTo8, [events[6]!, events[1]!, events[5]!]);

      expect(late).toMatchObject({ applied: 1, skipped: 2 });
      expect(late.stats.created).toBe(2);
      expect(late.stats.seq).toBe(11);
    });
  });

  describe('hourly', () => {
    const created = (tokenId: string, hours: number, seq: number) =>
      tokenLife(review, tokenId).create({}, { seq, ms: hours * HOUR });

    it('keeps the 168 hours ending with the newest hour', () => {
      const { stats } = apply(null, [created('a', 0, 1), created('b', 167, 2)]);
      expect(Object.keys(stats.hourly)).toEqual(['2024-05-01T10', '2024-05-08T09']);

      const later = apply(stats, [created('c', 168, 3)]).stats;
      expect(Object.keys(later.hourly)).toEqual(['2024-05-08T09', '2024-05-08T10']);
      expect(later.created).toBe(3);
    });

    it('given a late event older than the window, then it is counted in totals but not hourly', () => {
      const { stats } = apply(null, [
        created('a', 200, 1),
        created('b', 10, 2),
        created('c', 40, 3),
      ]);
      expect(stats.hourly).toEqual({
        '2024-05-03T02': { created: 1, completed: 0 },
        '2024-05-09T18': { created: 1, completed: 0 },
      });
      expect(stats.created).toBe(3);
    });

    it('prunes the same whatever the batches', () => {
      const events = [0, 100, 170, 30, 250, 90, 249].map((h, i) => created(`t${i}`, h, i + 1));
      const whole = apply(null, events).stats;
      let split: PartitionStats | null = null;
      for (const event of events) split = apply(split, [event]).stats;
      expect(split).toEqual(whole);
      // The newest hour is 250 h after T0: hours 0 and 30 fall out, 90 onwards stay.
      expect(Object.keys(whole.hourly).sort()).toEqual([
        '2024-05-05T04',
        '2024-05-05T14',
        '2024-05-08T12',
        '2024-05-11T19',
        '2024-05-11T20',
      ]);
    });
  });

  it('given a place named __proto__, then it is counted as an ordinary key', () => {
    const input = fixture('document_review');
    input.places.push('__proto__');
    input.transitions.push({ id: 'park', from: ['draft'], to: '__proto__' });
    const life = tokenLife(compileWorkflow(stored(input)));
    const { stats } = apply(null, [life.create(), life.fire('park')]);
    expect(Object.getPrototypeOf(stats.places)).toBe(Object.prototype);
    expect(Object.entries(stats.places)).toEqual([['__proto__', 1]]);
    expect(JSON.parse(JSON.stringify(stats)).places).toEqual(stats.places);
  });

  it('does not modify its input and starts from emptyStats', () => {
    const life = tokenLife(review);
    const current = frozen(emptyStats('document_review', 3));
    const { stats } = apply(current, [life.create()]);
    expect(current.places).toEqual({});
    expect(stats.places).toEqual({ draft: 1 });
  });

  it('refuses an event of another workflow', () => {
    const other = tokenLife(compiledFixture('order_processing')).create();
    expect(() => apply(null, [other])).toThrow(RangeError);
  });
});
