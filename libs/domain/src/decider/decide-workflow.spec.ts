import {
  compileValidator,
  type DefineWorkflow,
  type WorkflowDefinition,
  WorkflowDefined,
} from '@cb/schemas';
import { compileWorkflow } from '../workflow';
import { context, fixture, stored, T0 } from '../testing/fixtures';
import { outcome } from '../testing/given';
import { decideWorkflow } from './decide-workflow';
import { evolveWorkflow } from './evolve';

const schema = compileValidator(WorkflowDefined);
const define = (mode: DefineWorkflow['mode'], definition = fixture('order_processing')) =>
  ({ type: 'DefineWorkflow', mode, definition }) satisfies DefineWorkflow;
const when = (command: DefineWorkflow, latest: WorkflowDefinition | null = null, ctx = {}) =>
  outcome(decideWorkflow(command, latest, context(ctx)), (e) => schema.errors(e));

describe('decideWorkflow', () => {
  it('given no workflow, when created, then version 1 is defined with its analysis', () => {
    const event = when(define('create'), null, { now: '2024-06-01T00:00:00.000Z' }).then();
    expect(event).toEqual({
      type: 'workflow.defined.v1',
      eventId: 'evt-1',
      occurredAt: '2024-06-01T00:00:00.000Z',
      workflowId: 'order_processing',
      definition: {
        ...fixture('order_processing'),
        version: 1,
        createdAt: '2024-06-01T00:00:00.000Z',
      },
      analysis: { unreachablePlaces: [], deadEndPlaces: [] },
    });
    expect(event).not.toHaveProperty('triggeredBy');
    expect(event).not.toHaveProperty('requestId');
    expect(() => compileWorkflow(event.definition)).not.toThrow();
  });

  it('records who triggered it and the request id when given', () => {
    const event = when(define('create'), null, { triggeredBy: 'ana', requestId: 'req-9' }).then();
    expect(event).toMatchObject({ triggeredBy: 'ana', requestId: 'req-9' });
  });

  it('given an existing workflow, when created again, then WORKFLOW_EXISTS', () => {
    const error = when(define('create'), stored(fixture('order_processing'))).thenError(
      'WORKFLOW_EXISTS',
    );
    expect(error.details).toEqual({ workflowId: 'order_processing' });
  });

  it('given version 3, when versioned, then version 4 is defined', () => {
    const next = fixture('order_processing');
    next.places.push('refunded');
    next.transitions.push({ id: 'refund', from: ['paid'], to: 'refunded' });
    const event = when(define('version', next), stored(fixture('order_processing'), 3)).then();
    expect(event.definition.version).toBe(4);
    expect(event.definition.createdAt).toBe(T0);
    expect(event.analysis.deadEndPlaces).toEqual(['refunded']);
  });

  it('given no workflow, when versioned, then WORKFLOW_NOT_FOUND', () => {
    when(define('version')).thenError('WORKFLOW_NOT_FOUND');
  });

  it('when the definition is invalid, then VALIDATION_ERROR lists every problem', () => {
    const bad = fixture('order_processing');
    bad.initialPlace = 'nowhere';
    bad.transitions[0] = { ...bad.transitions[0]!, to: 'void' };
    const error = when(define('create', bad)).thenError('VALIDATION_ERROR');
    expect(error.details?.['errors']).toEqual([
      expect.objectContaining({ path: '/initialPlace' }),
      expect.objectContaining({ path: '/transitions/0/to' }),
    ]);
  });

  it('when a guard breaks a definition-time limit, then that limit’s code at that guard', () => {
    const bad = fixture('article_publishing');
    bad.transitions[0] = { ...bad.transitions[0]!, guard: { allOf: [{ $ref: '#' }] } };
    const error = when(define('create', bad)).thenError('GUARD_REF_CYCLE');
    expect(error.details?.['errors']).toEqual([
      expect.objectContaining({
        path: '/transitions/0/guard/allOf/0/$ref',
        code: 'GUARD_REF_CYCLE',
      }),
    ]);
  });

  it('when a timed transition has a bad duration or pointer, then VALIDATION_ERROR at it', () => {
    const bad = fixture('article_publishing');
    bad.transitions[0] = { ...bad.transitions[0]!, after: 'PT0.5S' };
    bad.transitions[1] = { ...bad.transitions[1]!, at: 'publishAt' };
    const error = when(define('create', bad)).thenError('VALIDATION_ERROR');
    expect(error.details?.['errors']).toEqual([
      { path: '/transitions/0/after', message: '"PT0.5S" is shorter than the minimum of 1 second' },
      {
        path: '/transitions/1/at',
        message: expect.stringContaining('is not a JSON Pointer starting with /data/') as string,
      },
    ]);
  });

  it('stores the `after` and `at` of timed transitions', () => {
    const def = fixture('article_publishing');
    def.transitions[0] = { ...def.transitions[0]!, after: 'PT48H' };
    def.transitions[1] = { ...def.transitions[1]!, at: '/data/publishAt' };
    const { definition } = when(define('create', def)).then();
    expect(definition.transitions[0]).toMatchObject({ after: 'PT48H' });
    expect(definition.transitions[0]).not.toHaveProperty('at');
    expect(definition.transitions[1]).toMatchObject({ at: '/data/publishAt' });
    expect(definition.transitions[1]).not.toHaveProperty('after');
  });

  it('stores the declared search attributes', () => {
    const def = { ...fixture('document_review'), searchAttributes: ['metadata.region'] };
    const { definition } = when(define('create', def)).then();
    expect(definition.searchAttributes).toEqual(['metadata.region']);
  });

  it('keeps analysis warnings out of validation: an unreachable place is defined', () => {
    const def = fixture('document_review');
    def.places.push('archive');
    const event = when(define('create', def)).then();
    expect(event.analysis).toEqual({ unreachablePlaces: ['archive'], deadEndPlaces: ['archive'] });
  });

  it('stores only the schema fields, without undefined optionals', () => {
    const def = fixture('software_deployment');
    const event = when(define('create', def)).then();
    expect(Object.keys(event.definition)).not.toContain('finalPlaces');
    expect(Object.keys(event.definition.transitions[2]!)).toEqual(['id', 'from', 'to']);
  });
});

describe('evolveWorkflow', () => {
  it('makes the defined version the current state', () => {
    const first = when(define('create')).then();
    const second = when(define('version'), first.definition, { eventId: 'evt-2' }).then();
    const state = [first, second].reduce(evolveWorkflow, null);
    expect(state).toEqual(second.definition);
    expect(state?.version).toBe(2);
  });
});
