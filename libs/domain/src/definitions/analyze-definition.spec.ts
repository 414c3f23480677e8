import { FIXTURES, fixture, type FixtureName } from '../testing/fixtures';
import { analyzeDefinition } from './analyze-definition';

describe('analyzeDefinition', () => {
  it.each(Object.keys(FIXTURES) as FixtureName[])(
    'finds nothing to warn about in the %s fixture',
    (name) => {
      expect(analyzeDefinition(fixture(name))).toEqual({
        unreachablePlaces: [],
        deadEndPlaces: [],
      });
    },
  );

  it('lists places no path from the initial place reaches, in declaration order', () => {
    const analysis = analyzeDefinition({
      places: ['orphan_b', 'start', 'orphan_a', 'end', 'island'],
      initialPlace: 'start',
      finalPlaces: ['end', 'island', 'orphan_a', 'orphan_b'],
      transitions: [
        { id: 'go', from: ['start'], to: 'end' },
        { id: 'from_orphan', from: ['orphan_a'], to: 'orphan_b' },
        { id: 'loop', from: ['island'], to: 'island' },
      ],
    });
    expect(analysis.unreachablePlaces).toEqual(['orphan_b', 'orphan_a', 'island']);
  });

  it('fires a multi-source transition as soon as any one source is reachable', () => {
    const analysis = analyzeDefinition({
      places: ['a', 'never', 'b', 'c'],
      initialPlace: 'a',
      finalPlaces: ['c', 'never'],
      transitions: [
        { id: 'a_or_never', from: ['never', 'a'], to: 'b' },
        { id: 'b_to_c', from: ['b'], to: 'c' },
      ],
    });
    expect(analysis.unreachablePlaces).toEqual(['never']);
  });

  it('lists non-final places with no outgoing transition as dead ends, in declaration order', () => {
    const analysis = analyzeDefinition({
      places: ['stuck_late', 'start', 'done', 'stuck_early'],
      initialPlace: 'start',
      finalPlaces: ['done'],
      transitions: [
        { id: 'finish', from: ['start'], to: 'done' },
        { id: 'fail', from: ['start'], to: 'stuck_early' },
        { id: 'fail_late', from: ['start'], to: 'stuck_late' },
      ],
    });
    expect(analysis).toEqual({
      unreachablePlaces: [],
      deadEndPlaces: ['stuck_late', 'stuck_early'],
    });
  });

  it('does not count a self-loop as a way out', () => {
    const analysis = analyzeDefinition({
      places: ['start', 'spin', 'done'],
      initialPlace: 'start',
      finalPlaces: ['done'],
      transitions: [
        { id: 'go', from: ['start'], to: 'spin' },
        { id: 'again', from: ['spin'], to: 'spin' },
        { id: 'finish', from: ['start'], to: 'done' },
      ],
    });
    expect(analysis.deadEndPlaces).toEqual(['spin']);
  });

  it('treats every place as a dead end candidate when no final places are declared', () => {
    const def = fixture('order_processing');
    delete def.finalPlaces;
    expect(analyzeDefinition(def).deadEndPlaces).toEqual(['delivered', 'cancelled']);
  });

  it('follows cycles without looping forever', () => {
    expect(analyzeDefinition(fixture('software_deployment')).unreachablePlaces).toEqual([]);
  });
});
