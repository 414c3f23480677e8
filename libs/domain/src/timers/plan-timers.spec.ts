import { type WorkflowDefinitionInput } from '@cb/schemas';
import { type StoredTokenEvent } from '../projections';
import { at, stored } from '../testing/fixtures';
import { tokenLife } from '../testing/token-life';
import { compileWorkflow } from '../workflow';
import { diffTimers } from './diff-timers';
import { planTimers, type TokenTimers } from './plan-timers';
import { timerRules } from './timer-rules';

const HOUR = 3_600_000;

/** Review that escalates after 48 h and expires after a month; publishing at a time in the data. */
const definition: WorkflowDefinitionInput = {
  id: 'article',
  name: 'Article',
  places: ['draft', 'review', 'escalated', 'scheduled', 'published', 'cancelled'],
  initialPlace: 'draft',
  finalPlaces: ['published', 'cancelled'],
  transitions: [
    { id: 'submit', from: ['draft'], to: 'review' },
    { id: 'escalate', from: ['review'], to: 'escalated', after: 'PT48H' },
    { id: 'expire', from: ['review', 'escalated'], to: 'cancelled', after: 'P1M' },
    { id: 'recheck', from: ['review'], to: 'review' },
    { id: 'back', from: ['review', 'escalated'], to: 'draft' },
    { id: 'approve', from: ['review', 'escalated'], to: 'scheduled' },
    { id: 'publish', from: ['scheduled'], to: 'published', at: '/data/publishAt' },
    { id: 'remind', from: ['scheduled'], to: 'scheduled', at: '/metadata/remindAt' },
  ],
};
const workflow = compileWorkflow(stored(definition));
const rules = timerRules(stored(definition));

/** The timers after each event in turn; fails the test if one cannot be planned. */
function fold(events: StoredTokenEvent[], from?: TokenTimers): TokenTimers {
  let timers = from;
  for (const event of events) {
    const plan = planTimers(rules, timers, event);
    if (!plan.ok) throw new Error(plan.message);
    timers = plan.timers;
  }
  if (!timers) throw new Error('no events');
  return timers;
}

describe('timerRules', () => {
  it('parses the timed transitions of a definition once', () => {
    expect(rules.workflowId).toBe('article');
    expect(rules.version).toBe(1);
    expect(rules.rules.map((r) => [r.transition, r.kind, [...r.from]])).toEqual([
      ['escalate', 'after', ['review']],
      ['expire', 'after', ['review', 'escalated']],
      ['publish', 'at', ['scheduled']],
      ['remind', 'at', ['scheduled']],
    ]);
  });

  it('gives a definition without timed transitions no rules', () => {
    expect(timerRules(stored({ ...definition, transitions: [] })).rules).toEqual([]);
  });
});

describe('planTimers', () => {
  it('given a new token in a place without timers, then it has none', () => {
    const life = tokenLife(workflow);
    const timers = fold([life.create({}, { seq: 3, ms: 0 })]);
    expect(timers).toEqual({
      workflowId: 'article',
      tokenId: 't1',
      definitionVersion: 1,
      status: 'live',
      place: 'draft',
      enteredSeq: 3,
      seq: 3,
      timers: [],
      unarmed: [],
    });
  });

  it('given a token created straight into a timed place, then its timers count from creation', () => {
    const life = tokenLife(workflow);
    const timers = fold([life.create({ place: 'review' }, { seq: 5, ms: 0 })]);
    expect(timers.timers).toEqual([
      { transition: 'escalate', dueAt: at(48 * HOUR), armedBy: 5 },
      { transition: 'expire', dueAt: '2024-06-01T10:00:00.000Z', armedBy: 5 },
    ]);
  });

  it('when the token enters a timed place, then each timer is due after its duration from the entry, armed by that event', () => {
    const life = tokenLife(workflow);
    const created = life.create({}, { seq: 1, ms: 0 });
    const submitted = life.fire('submit', { seq: 7, ms: 90_000 });
    const timers = fold([created, submitted]);
    expect(timers).toMatchObject({ place: 'review', enteredSeq: 7, seq: 7 });
    expect(timers.timers).toEqual([
      { transition: 'escalate', dueAt: at(90_000 + 48 * HOUR), armedBy: 7 },
      { transition: 'expire', dueAt: '2024-06-01T10:01:30.000Z', armedBy: 7 },
    ]);
  });

  it('when the token moves to another timed place, then timers from the old place are cancelled and a shared one is re-armed', () => {
    const life = tokenLife(workflow);
    const inReview = fold([life.create({}, { ms: 0 }), life.fire('submit', { seq: 2, ms: 0 })]);
    const escalated = fold([life.fire('escalate', { seq: 3, ms: 48 * HOUR })], inReview);
    expect(escalated.timers).toEqual([
      // `expire` is a timer of both places: entering `escalated` arms it anew, from the entry.
      { transition: 'expire', dueAt: '2024-06-03T10:00:00.000Z', armedBy: 3 },
    ]);
    expect(diffTimers(inReview, escalated)).toEqual({
      armed: escalated.timers,
      cancelled: inReview.timers,
    });
  });

  it('when the token moves away and back, then its timers are armed by the new entry', () => {
    const life = tokenLife(workflow);
    const first = fold([
      life.create({}, { seq: 1, ms: 0 }),
      life.fire('submit', { seq: 2, ms: 0 }),
    ]);
    const back = fold([life.fire('back', { seq: 3, ms: HOUR })], first);
    expect(back.timers).toEqual([]);
    const again = fold([life.fire('submit', { seq: 4, ms: 2 * HOUR })], back);
    expect(again.timers.map((t) => [t.transition, t.armedBy, t.dueAt])).toEqual([
      ['escalate', 4, at(50 * HOUR)],
      ['expire', 4, '2024-06-01T12:00:00.000Z'],
    ]);
  });

  it('when the token fires a transition back into the same place, then that is a new entry too', () => {
    const life = tokenLife(workflow);
    const before = fold([life.create({ place: 'review' }, { seq: 1, ms: 0 })]);
    const after = fold([life.fire('recheck', { seq: 2, ms: HOUR })], before);
    expect(after.enteredSeq).toBe(2);
    expect(after.timers.map((t) => [t.transition, t.armedBy, t.dueAt])).toEqual([
      ['escalate', 2, at(49 * HOUR)],
      ['expire', 2, '2024-06-01T11:00:00.000Z'],
    ]);
    expect(diffTimers(before, after).cancelled).toEqual(before.timers);
  });

  it('when the token is updated, then its `after` timers stay as they were', () => {
    const life = tokenLife(workflow);
    const before = fold([life.create({ place: 'review' }, { seq: 1, ms: 0 })]);
    const after = fold([life.update({ note: 'still reading' }, { seq: 2, ms: HOUR })], before);
    expect(after).toEqual({ ...before, seq: 2 });
    expect(diffTimers(before, after)).toEqual({ armed: [], cancelled: [] });
  });

  it('when the token is deleted, then every timer is cancelled and a tombstone remains', () => {
    const life = tokenLife(workflow);
    const before = fold([life.create({ place: 'review' }, { seq: 1, ms: 0 })]);
    const deleted = fold([life.remove({ seq: 2 })], before);
    expect(deleted).toMatchObject({ status: 'deleted', seq: 2, timers: [], unarmed: [] });
    expect(diffTimers(before, deleted).cancelled).toEqual(before.timers);
  });

  it('given a deleted token, when an older event is redelivered, then nothing is armed again', () => {
    const life = tokenLife(workflow);
    const created = life.create({ place: 'review' }, { seq: 1, ms: 0 });
    const deleted = fold([created, life.remove({ seq: 2 })]);
    expect(fold([created], deleted)).toBe(deleted);
  });

  it('given timers at seq 5, when an event at seq 5 or before arrives again, then nothing changes', () => {
    const life = tokenLife(workflow);
    const created = life.create({}, { seq: 1, ms: 0 });
    const submitted = life.fire('submit', { seq: 5 });
    const timers = fold([created, submitted]);
    expect(fold([submitted], timers)).toBe(timers);
    expect(fold([created], timers)).toBe(timers);
  });

  it('given no earlier state, when a token is deleted, then it is a tombstone all the same', () => {
    const life = tokenLife(workflow);
    life.create({ place: 'review' }, { seq: 1 });
    const plan = planTimers(rules, undefined, life.remove({ seq: 2 }));
    expect(plan).toMatchObject({ ok: true, timers: { status: 'deleted', timers: [] } });
  });

  it('given no earlier state, when a token is updated, then the place entry is unknown', () => {
    const life = tokenLife(workflow);
    life.create({ place: 'review' }, { seq: 1 });
    const updated = life.update({ x: 1 }, { seq: 2 });
    expect(planTimers(rules, undefined, updated)).toEqual({
      ok: false,
      reason: 'place-entry-unknown',
      message: 'token t1: update at seq 2 without the event that brought it into "review"',
    });
  });

  it('given the rules of another version, then the plan is refused', () => {
    const life = tokenLife(workflow);
    const created = life.create({}, { seq: 1 });
    const v2 = timerRules(stored(definition, 2));
    expect(planTimers(v2, undefined, created)).toMatchObject({
      ok: false,
      reason: 'definition-mismatch',
    });
  });

  it("orders a token's timers by due time, then by transition id", () => {
    const racing: WorkflowDefinitionInput = {
      ...definition,
      id: 'racing',
      transitions: [
        { id: 'z', from: ['draft'], to: 'review', after: 'PT1H' },
        { id: 'a', from: ['draft'], to: 'review', after: 'PT60M' },
        { id: 'm', from: ['draft'], to: 'review', after: 'PT30M' },
      ],
    };
    const life = tokenLife(compileWorkflow(stored(racing)));
    const plan = planTimers(timerRules(stored(racing)), undefined, life.create({}, { ms: 0 }));
    expect(plan.ok && plan.timers.timers.map((t) => [t.transition, t.dueAt])).toEqual([
      ['m', at(HOUR / 2)],
      ['a', at(HOUR)],
      ['z', at(HOUR)],
    ]);
  });

  describe('`at` timers', () => {
    /** A token in `scheduled`, entered at seq 3, one minute after T0. */
    function scheduled(data: Record<string, unknown>) {
      const life = tokenLife(workflow);
      const events = [
        life.create({ place: 'review', data }, { seq: 1, ms: 0 }),
        life.fire('approve', { seq: 3, ms: 60_000 }),
      ];
      return { life, timers: fold(events) };
    }

    it('when the token enters the place, then the timer is due at the pointed time, in UTC', () => {
      const { timers } = scheduled({ publishAt: '2024-05-02T09:00:00+02:00' });
      expect(timers.timers).toEqual([
        { transition: 'publish', dueAt: '2024-05-02T07:00:00.000Z', armedBy: 3 },
      ]);
      expect(timers.unarmed).toEqual([
        { transition: 'remind', pointer: '/metadata/remindAt', reason: 'missing' },
      ]);
    });

    it('given a time in the past, then the timer is due at that time, that is at once', () => {
      const { timers } = scheduled({ publishAt: '2020-01-01T00:00:00Z' });
      expect(timers.timers).toEqual([
        { transition: 'publish', dueAt: '2020-01-01T00:00:00.000Z', armedBy: 3 },
      ]);
    });

    it.each([
      [{ publishAt: 'tomorrow' }, 'not-a-time'],
      [{ publishAt: '2024-02-30T00:00:00Z' }, 'not-a-time'],
      [{ publishAt: 1714554000000 }, 'not-a-time'],
      [{ publishAt: null }, 'not-a-time'],
      [{ publishAt: { at: '2024-05-02T07:00:00Z' } }, 'not-a-time'],
      [{}, 'missing'],
    ])('given data %j, then no timer is armed and the reason is reported', (data, reason) => {
      const { timers } = scheduled(data);
      expect(timers.timers).toEqual([]);
      expect(timers.unarmed).toContainEqual({
        transition: 'publish',
        pointer: '/data/publishAt',
        reason,
      });
    });

    it('when the pointed field changes, then the timer is re-armed, still armed by the entry', () => {
      const { life, timers } = scheduled({ publishAt: '2024-05-02T07:00:00Z' });
      const moved = fold([life.update({ publishAt: '2024-05-03T07:00:00Z' }, { seq: 9 })], timers);
      expect(moved.timers).toEqual([
        { transition: 'publish', dueAt: '2024-05-03T07:00:00.000Z', armedBy: 3 },
      ]);
      expect(diffTimers(timers, moved)).toEqual({
        armed: moved.timers,
        cancelled: timers.timers,
      });
    });

    it('when another field changes, then the timer stays', () => {
      const { life, timers } = scheduled({ publishAt: '2024-05-02T07:00:00Z' });
      const after = fold([life.update({ title: 'new' }, { seq: 9 })], timers);
      expect(diffTimers(timers, after)).toEqual({ armed: [], cancelled: [] });
    });

    it('when the field is removed or made invalid, then the timer is cancelled and the reason reported', () => {
      const { life, timers } = scheduled({ publishAt: '2024-05-02T07:00:00Z' });
      const removed = fold([life.update({ publishAt: null }, { seq: 9 })], timers);
      expect(removed.timers).toEqual([]);
      expect(removed.unarmed).toContainEqual({
        transition: 'publish',
        pointer: '/data/publishAt',
        reason: 'missing',
      });
      const fixed = fold(
        [life.update({ publishAt: '2024-05-05T00:00:00Z' }, { seq: 10 })],
        removed,
      );
      expect(fixed.timers).toEqual([
        { transition: 'publish', dueAt: '2024-05-05T00:00:00.000Z', armedBy: 3 },
      ]);
    });

    it('reads a time from the metadata as well', () => {
      const life = tokenLife(workflow);
      const created = life.create({ place: 'scheduled' }, { seq: 1 });
      created.event.state.metadata = { remindAt: '2024-05-01T12:00:00Z' };
      expect(fold([created]).timers).toEqual([
        { transition: 'remind', dueAt: '2024-05-01T12:00:00.000Z', armedBy: 1 },
      ]);
    });
  });
});
