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
    expect(folded.tokens.get('kept')).toEqual(toToken(submitted.event.state, 4));
    expect(folded.tokens.get('gone')).toMatchObject({
      deleted: true,
      deletedAt: gone.events[1]!.event.occurredAt,
      version: 6,
    });
    expect([...folded.places.keys()]).toEqual(['document_review.pending_review.kept']);
    expect(folded.places.get('document_review.pending_review.kept')).toEqual(
      folded.tokens.get('kept'),
    );
    expect(folded.stats.get('document_review.0')).toMatchObject({
      seq: 4,
      places: { pending_review: 1 },
      transitions: { submit: 1 },
      timeInPlace: { draft: { totalMs: 60_000, count: 1 } },
    });
    expect(folded.stats.get('document_review.1')).toMatchObject({
      seq: 6,
      places: {},
      created: 1,
      deleted: 1,
      timeInPlace: { draft: { totalMs: 120_000, count: 1 } },
    });
    expect(folded.workflows.get('document_review')).toMatchObject({ version: 2, seq: 5 });
    expect(folded.workflows.get('document_review.v1')).toEqual({
      ...v1.definition,
      analysis: v1.analysis,
      seq: 1,
    });
    expect(folded.workflows.get('document_review.v2')).toBe(
      folded.workflows.get('document_review'),
    );
  });

  it('refuses seqs that do not increase', () => {
    const life = tokenLife(review);
    const events = [life.create({}, { seq: 3 }), life.fire('submit', { seq: 3 })];
    expect(() => foldReadModels(events, () => 0)).toThrow(RangeError);
  });
});
