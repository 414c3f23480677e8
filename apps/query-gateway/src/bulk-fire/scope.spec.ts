import type { WorkflowResource } from '@cb/schemas';
import { ApiError } from '../api-error';
import { resolveScope, type DefinitionVersions } from './scope';

/** A definition version with just what the scope reads: places and transitions. */
function version(
  v: number,
  places: string[],
  transitions: Array<[id: string, from: string[], to: string]>,
): WorkflowResource {
  return {
    id: 'order',
    version: v,
    places,
    transitions: transitions.map(([id, from, to]) => ({ id, from, to })),
  } as unknown as WorkflowResource;
}

const v2 = version(
  2,
  ['new', 'paid', 'held', 'shipped'],
  [
    ['pay', ['new', 'held'], 'paid'],
    ['ship', ['paid'], 'shipped'],
  ],
);
const v1 = version(
  1,
  ['new', 'paid', 'cancelled'],
  [
    ['pay', ['new'], 'paid'],
    ['cancel', ['new'], 'cancelled'],
  ],
);

function refusal(run: () => unknown): ApiError {
  try {
    run();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('resolveScope', () => {
  const versions: DefinitionVersions = [v2, v1];

  it('without a place: every from place of the transition in any version, and where it leads', () => {
    const scope = resolveScope('order', versions, 'pay', undefined);
    expect([...scope.places].sort()).toEqual(['held', 'new']);
    expect(scope.targets).toEqual(['paid']);
  });

  it('a transition only an older version defines still counts (tokens pinned to it fire)', () => {
    const scope = resolveScope('order', versions, 'cancel', undefined);
    expect([...scope.places]).toEqual(['new']);
    expect(scope.targets).toEqual(['cancelled']);
  });

  it('with a place the transition fires from: that place only', () => {
    const scope = resolveScope('order', versions, 'pay', 'held');
    expect([...scope.places]).toEqual(['held']);
    expect(scope.targets).toEqual(['paid']);
  });

  it('an undeclared place is 400 VALIDATION_ERROR naming the places of the latest version', () => {
    const err = refusal(() => resolveScope('order', versions, 'pay', 'lost'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.message).toContain('new, paid, held, shipped');
    expect(err.details).toEqual({
      errors: [{ path: 'body/place', message: 'is not a place of the workflow' }],
    });
  });

  it('a transition no version defines is 422 TRANSITION_NOT_ENABLED listing the latest transitions', () => {
    const err = refusal(() => resolveScope('order', versions, 'refund', undefined));
    expect(err.code).toBe('TRANSITION_NOT_ENABLED');
    expect(err.details).toEqual({ transition: 'refund', transitions: ['pay', 'ship'] });
  });

  it('a declared place the transition does not fire from is 422 with its from places', () => {
    const err = refusal(() => resolveScope('order', versions, 'pay', 'shipped'));
    expect(err.code).toBe('TRANSITION_NOT_ENABLED');
    expect(err.details).toEqual({ transition: 'pay', place: 'shipped', from: ['held', 'new'] });
  });

  it('a place declared only by an older version is a place (validated, then checked)', () => {
    const err = refusal(() => resolveScope('order', versions, 'pay', 'cancelled'));
    expect(err.code).toBe('TRANSITION_NOT_ENABLED');
  });
});
