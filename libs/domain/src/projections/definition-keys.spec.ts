import { compileValidator, WorkflowResource } from '@cb/schemas';
import { defined } from '../testing/defined';
import { definitionKeysFor, isNewerDefinition } from './definition-keys';

const schema = compileValidator(WorkflowResource);

describe('definitionKeysFor', () => {
  it('given a definition event at seq 12, then both keys hold definition + analysis + seq', () => {
    const event = defined('document_review', 2);

    const { version, latestCandidate } = definitionKeysFor(event, 12);

    expect(version).toEqual({ ...event.definition, analysis: event.analysis, seq: 12 });
    expect(version.version).toBe(2);
    expect(latestCandidate).toEqual(version);
    expect(schema.errors(version)).toEqual([]);
  });
});

describe('isNewerDefinition', () => {
  const at = (v: number, seq: number) =>
    definitionKeysFor(defined('document_review', v), seq).latestCandidate;

  it('given no latest, then any version is newer', () => {
    expect(isNewerDefinition(null, at(1, 1))).toBe(true);
  });

  it('compares by version number, not seq', () => {
    expect(isNewerDefinition(at(1, 1), at(2, 5))).toBe(true);
    expect(isNewerDefinition(at(2, 5), at(2, 5))).toBe(false);
    expect(isNewerDefinition(at(2, 5), at(1, 9))).toBe(false);
  });
});
