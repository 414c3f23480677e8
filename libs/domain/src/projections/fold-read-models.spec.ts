import { type CbEvent } from '@cb/schemas';
import { toToken } from '../decider';
import { defined } from '../testing/defined';
import { compiledFixture } from '../testing/fixtures';
import { tokenLife } from '../testing/token-life';
import { foldReadModels } from './fold-read-models';

const review = compiledFixture('document_review');

describe('foldReadModels', () => {
  it('given definitions and two tokens, then every read model is folded event by event', () => {
    const kept = tokenLife(review, 'kept');
    const gone = tokenLife(review, 'gone');
    const v1 = defined('document_review', 1);
    const v2 = defined('document_review', 2);
    const stream: Array<{ seq: number; event: CbEvent }> = [
      { seq: 1, event: v1 },
      kept.create({}, { seq: 2, ms: 0 }),
      gone.create({}, { seq: 3, ms: 0 }),
      kept.fire('submit', { seq: 4, ms: 60_000 }),
      { seq: 5, event: v2 },
      gone.remove({ seq: 6, ms: 120_000 }),
    ];
    const partitionOf = (tokenId: string) => (tokenId === 'kept' ? 0 : 1);

    const folded = foldReadModels(stream, partitionOf);

    const submitted = kept.events[1]!;
    expect(folded.tokens.get('default.kept')).toEqual(toToken(submitted.event.state, 4));
    expect(folded.tokens.get('default.gone')).toMatchObject({
      deleted: true,
      deletedAt: gone.events[1]!.event.occurredAt,
      version: 6,
    });
    expect([...folded.places.keys()]).toEqual(['default.document_review.pending_review.kept']);
    expect(folded.places.get('default.document_review.pending_review.kept')).toEqual(
      folded.tokens.get('default.kept'),
    );
    expect(folded.stats.get('default.document_review.0')).toMatchObject({
      seq: 4,
      places: { pending_review: 1 },
      transitions: { submit: 1 },
      timeInPlace: { draft: { totalMs: 60_000, count: 1 } },
    });
    expect(folded.stats.get('default.document_review.1')).toMatchObject({
      seq: 6,
      places: {},
      created: 1,
      deleted: 1,
      timeInPlace: { draft: { totalMs: 120_000, count: 1 } },
    });
    expect(folded.workflows.get('default.document_review')).toMatchObject({ version: 2, seq: 5 });
    expect(folded.workflows.get('default.document_review.v1')).toEqual({
      ...v1.definition,
      analysis: v1.analysis,
      seq: 1,
    });
    expect(folded.workflows.get('default.document_review.v2')).toBe(
      folded.workflows.get('default.document_review'),
    );
  });

  it('keys every read model by the tenant of the event', () => {
    const life = tokenLife(review, 'same');
    const other = tokenLife(review, 'same');
    const folded = foldReadModels(
      [
        { seq: 1, event: defined('document_review', 1), tenant: 'acme' },
        { ...life.create({}, { seq: 2 }), tenant: 'acme' },
        { ...other.create({}, { seq: 3 }), tenant: 'zeta' },
      ],
      () => 0,
    );
    expect([...folded.tokens.keys()].sort()).toEqual(['acme.same', 'zeta.same']);
    expect([...folded.workflows.keys()].sort()).toEqual([
      'acme.document_review',
      'acme.document_review.v1',
    ]);
    expect([...folded.stats.keys()].sort()).toEqual([
      'acme.document_review.0',
      'zeta.document_review.0',
    ]);
  });

  it('refuses seqs that do not increase', () => {
    const life = tokenLife(review);
    const events = [life.create({}, { seq: 3 }), life.fire('submit', { seq: 3 })];
    expect(() => foldReadModels(events, () => 0)).toThrow(RangeError);
  });
});
