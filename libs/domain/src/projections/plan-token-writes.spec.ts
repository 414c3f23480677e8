import { type TokenDoc } from '@cb/schemas';
import { toToken } from '../decider';
import { compiledFixture } from '../testing/fixtures';
import { tokenLife } from '../testing/token-life';
import { planTokenWrites } from './plan-token-writes';
import { toTokenDoc } from './token-doc';
import { type StoredTokenEvent } from './stored-event';

const review = compiledFixture('document_review');

/** The doc a projection would hold after applying `event`. */
const docAfter = ({ seq, event }: StoredTokenEvent): TokenDoc => toTokenDoc(event, seq);

describe('planTokenWrites', () => {
  describe('new events', () => {
    it('given no doc, when the token is created, then its doc and its place entry are written', () => {
      const life = tokenLife(review);
      const created = life.create({ data: { title: 'x' } }, { seq: 4 });

      const plan = planTokenWrites(null, [created]);

      expect(plan).toEqual({
        doc: toToken(created.event.state, 4),
        placeDeletes: [],
        placePut: toToken(created.event.state, 4),
        applied: 1,
        skipped: 0,
      });
      expect(plan.doc).toMatchObject({ place: 'draft', version: 4, data: { title: 'x' } });
      expect(plan.doc).not.toHaveProperty('deleted');
    });

    it('given a token in draft, when submitted, then it ends only in pending_review', () => {
      const life = tokenLife(review);
      const created = life.create();
      const submitted = life.fire('submit', { seq: 9 });

      const plan = planTokenWrites(docAfter(created), [submitted]);

      expect(plan.placeDeletes).toEqual(['draft']);
      expect(plan.placePut).toEqual(toToken(submitted.event.state, 9));
      expect(plan.placePut?.place).toBe('pending_review');
      expect(plan.doc).toEqual(toToken(submitted.event.state, 9));
      expect(plan).toMatchObject({ applied: 1, skipped: 0 });
    });

    it('given a live token, when updated, then the entry of its place is rewritten and none deleted', () => {
      const life = tokenLife(review);
      const created = life.create({ data: { a: 1 } });
      const updated = life.update({ b: 2 });

      const plan = planTokenWrites(docAfter(created), [updated]);

      expect(plan.placeDeletes).toEqual([]);
      expect(plan.placePut).toMatchObject({ place: 'draft', data: { a: 1, b: 2 }, version: 2 });
      expect(plan.doc).toEqual(plan.placePut);
    });

    it('given a token in draft, when it goes round the loop in one batch, then every place it left is deleted', () => {
      const life = tokenLife(review);
      const created = life.create();
      const batch = [
        life.fire('submit'),
        life.fire('review'),
        life.fire('reject'),
        life.update({ note: 'fix it' }),
        life.fire('revise'),
        life.fire('submit'),
      ];

      const plan = planTokenWrites(docAfter(created), batch);

      expect(plan.placeDeletes).toEqual(['draft', 'reviewed', 'rejected']);
      expect(plan.placePut).toMatchObject({ place: 'pending_review', version: 7 });
      expect(plan.doc).toEqual(docAfter(batch[5]!));
      expect(plan).toMatchObject({ applied: 6, skipped: 0 });
    });

    it('given no doc, when created and moved to approved in one batch, then only approved is indexed', () => {
      const life = tokenLife(review);
      const batch = [life.create(), life.fire('submit'), life.fire('review'), life.fire('approve')];

      const plan = planTokenWrites(null, batch);

      expect(plan.placeDeletes).toEqual(['draft', 'pending_review', 'reviewed']);
      expect(plan.placePut).toMatchObject({ place: 'approved', version: 4 });
    });
  });

  describe('deletion', () => {
    it('given a token in pending_review, when deleted, then a tombstone replaces the doc and its entry goes', () => {
      const life = tokenLife(review);
      life.create();
      const submitted = life.fire('submit');
      const deleted = life.remove({ seq: 12, ms: 3_600_000 });

      const plan = planTokenWrites(docAfter(submitted), [deleted]);

      expect(plan.doc).toEqual({
        ...toToken(deleted.event.state, 12),
        deleted: true,
        deletedAt: deleted.event.occurredAt,
      });
      expect(plan.doc?.deletedAt).toBe('2024-05-01T11:00:00.000Z');
      expect(plan.placeDeletes).toEqual(['pending_review']);
      expect(plan.placePut).toBeNull();
    });

    it('given no doc, when created, moved and deleted in one batch, then every place it touched is deleted', () => {
      const life = tokenLife(review);
      const batch = [life.create(), life.fire('submit'), life.remove()];

      const plan = planTokenWrites(null, batch);

      expect(plan.doc).toMatchObject({ deleted: true, version: 3, place: 'pending_review' });
      expect(plan.placeDeletes).toEqual(['draft', 'pending_review']);
      expect(plan.placePut).toBeNull();
    });

    it('given a tombstone, when older events are redelivered, then nothing resurrects it', () => {
      const life = tokenLife(review);
      const created = life.create({}, { seq: 2 });
      const submitted = life.fire('submit', { seq: 5 });
      const deleted = life.remove({ seq: 9 });

      const plan = planTokenWrites(docAfter(deleted), [created, submitted]);

      expect(plan).toEqual({ doc: null, placeDeletes: [], placePut: null, applied: 0, skipped: 2 });
    });
  });

  describe('duplicates and redeliveries', () => {
    it('given a doc at v5, when only older events arrive, then nothing is written', () => {
      const life = tokenLife(review);
      const batch = [life.create({}, { seq: 3 }), life.fire('submit', { seq: 4 })];
      const doc = docAfter(life.fire('review', { seq: 5 }));

      expect(planTokenWrites(doc, batch)).toEqual({
        doc: null,
        placeDeletes: [],
        placePut: null,
        applied: 0,
        skipped: 2,
      });
    });

    it('given a doc at v5, when event 5 is redelivered, then it is skipped but its place operations are issued again', () => {
      const life = tokenLife(review);
      life.create({}, { seq: 3 });
      const submitted = life.fire('submit', { seq: 5 });

      const plan = planTokenWrites(docAfter(submitted), [submitted]);

      expect(plan).toEqual({
        doc: null,
        placeDeletes: ['draft'],
        placePut: toToken(submitted.event.state, 5),
        applied: 0,
        skipped: 1,
      });
    });

    it('given a tombstone, when its deletion is redelivered, then the place entry is deleted again', () => {
      const life = tokenLife(review);
      life.create();
      const deleted = life.remove({ seq: 7 });

      const plan = planTokenWrites(docAfter(deleted), [deleted]);

      expect(plan).toEqual({
        doc: null,
        placeDeletes: ['draft'],
        placePut: null,
        applied: 0,
        skipped: 1,
      });
    });

    it('given a doc at v5, when a batch mixes stale, redelivered and new events, then only the new ones apply', () => {
      const life = tokenLife(review);
      const created = life.create({}, { seq: 3 });
      const submitted = life.fire('submit', { seq: 5 });
      const reviewed = life.fire('review', { seq: 8 });

      const plan = planTokenWrites(docAfter(submitted), [created, submitted, reviewed]);

      expect(plan.doc).toEqual(docAfter(reviewed));
      expect(plan.placeDeletes).toEqual(['pending_review', 'draft']);
      expect(plan.placePut).toMatchObject({ place: 'reviewed', version: 8 });
      expect(plan).toMatchObject({ applied: 1, skipped: 2 });
    });

    it('given the same new event twice in one batch, then it applies once', () => {
      const life = tokenLife(review);
      const created = life.create();
      const submitted = life.fire('submit');

      const plan = planTokenWrites(docAfter(created), [submitted, submitted]);

      expect(plan).toMatchObject({ applied: 1, skipped: 1, placeDeletes: ['draft'] });
      expect(plan.doc).toEqual(docAfter(submitted));
    });

    it('given a batch out of seq order, then it is applied in seq order', () => {
      const life = tokenLife(review);
      const created = life.create();
      const submitted = life.fire('submit');
      const reviewed = life.fire('review');

      const plan = planTokenWrites(docAfter(created), [reviewed, submitted]);

      expect(plan.doc).toEqual(docAfter(reviewed));
      expect(plan).toMatchObject({ applied: 2, skipped: 0 });
      expect(plan.placeDeletes).toEqual(['draft', 'pending_review']);
    });
  });

  it('refuses a batch that mixes tokens', () => {
    const one = tokenLife(review, 't1').create();
    const two = tokenLife(review, 't2').create();
    expect(() => planTokenWrites(null, [one, two])).toThrow(RangeError);
    expect(() => planTokenWrites(docAfter(one), [two])).toThrow(RangeError);
  });

  it('given an empty batch, then nothing is written', () => {
    expect(planTokenWrites(null, [])).toEqual({
      doc: null,
      placeDeletes: [],
      placePut: null,
      applied: 0,
      skipped: 0,
    });
  });
});
