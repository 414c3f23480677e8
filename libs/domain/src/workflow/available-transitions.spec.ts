import { type TokenState } from '@cb/schemas';
import { compileGuards, evaluateGuards, type GuardVerdicts } from '../guards';
import { compiledFixture, fixture, stored, T0 } from '../testing/fixtures';
import {
  availabilityGuardRequests,
  availableTransitions as withVerdicts,
} from './available-transitions';
import { compileWorkflow, type CompiledWorkflow } from './compiled-workflow';

/** availableTransitions with the guards it asks for evaluated in-process. */
function availableTransitions(workflow: CompiledWorkflow, t: TokenState, verdicts?: GuardVerdicts) {
  const requests = availabilityGuardRequests(workflow, t);
  const evaluated =
    verdicts ?? evaluateGuards(compileGuards(workflow.definition.transitions), requests);
  return withVerdicts(workflow, t, evaluated);
}

function token(workflowId: string, place: string, data = {}, metadata = {}): TokenState {
  return {
    id: 't1',
    workflowId,
    definitionVersion: 1,
    place,
    data,
    metadata,
    createdAt: T0,
    updatedAt: T0,
    placeEnteredAt: T0,
  };
}

describe('availableTransitions', () => {
  const article = compiledFixture('article_publishing');
  const order = compiledFixture('order_processing');

  it('lists every transition of the definition in declaration order', () => {
    const ids = availableTransitions(article, token('article_publishing', 'draft')).map(
      (a) => a.id,
    );
    expect(ids).toEqual(['submit', 'approve', 'reject', 'revise', 'publish']);
  });

  it('reports a failing guard at the right place with every failing path', () => {
    const [submit] = availableTransitions(article, token('article_publishing', 'draft'));
    expect(submit).toEqual({
      id: 'submit',
      from: ['draft'],
      to: 'review',
      enabled: false,
      reasons: [
        {
          code: 'GUARD_FAILED',
          message: 'guard of "submit" failed',
          failures: [
            expect.objectContaining({ path: '/data/content' }),
            expect.objectContaining({ path: '/data/title' }),
            expect.objectContaining({ path: '/data/word_count' }),
          ],
          failureCount: 3,
        },
      ],
    });
  });

  it('reports both the wrong place and the guard when both stand in the way', () => {
    const approve = availableTransitions(article, token('article_publishing', 'draft'))[1];
    expect(approve?.enabled).toBe(false);
    expect(approve?.reasons.map((r) => r.code)).toEqual(['WRONG_PLACE', 'GUARD_FAILED']);
    expect(approve?.reasons[0]).toEqual({
      code: 'WRONG_PLACE',
      message: 'token is in "draft"; "approve" fires from "review"',
      place: 'draft',
      from: ['review'],
    });
  });

  it('enables a transition whose place matches and whose guard passes', () => {
    const data = { content: 'c', title: 't', word_count: 150 };
    const result = availableTransitions(article, token('article_publishing', 'draft', data));
    expect(result.filter((a) => a.enabled).map((a) => a.id)).toEqual(['submit']);
    expect(result[0]?.reasons).toEqual([]);
  });

  it.each(['cart', 'payment_pending'])('enables order_processing "cancel" from %s', (place) => {
    const cancel = availableTransitions(order, token('order_processing', place)).find(
      (a) => a.id === 'cancel',
    );
    expect(cancel).toMatchObject({ enabled: true, reasons: [] });
  });

  it('names both source places when cancel is not possible any more', () => {
    const cancel = availableTransitions(order, token('order_processing', 'paid')).find(
      (a) => a.id === 'cancel',
    );
    expect(cancel?.reasons).toEqual([
      {
        code: 'WRONG_PLACE',
        message: 'token is in "paid"; "cancel" fires from "cart", "payment_pending"',
        place: 'paid',
        from: ['cart', 'payment_pending'],
      },
    ]);
  });

  it('includes the transition description when the definition has one', () => {
    const def = stored(fixture('document_review'));
    def.transitions[0] = { ...def.transitions[0]!, description: 'Send for review' };
    const [submit, review] = availableTransitions(
      compileWorkflow(def),
      token('document_review', 'draft'),
    );
    expect(submit?.description).toBe('Send for review');
    expect(review).not.toHaveProperty('description');
  });

  it('asks for every guarded transition, on the token as it is', () => {
    const t = token('article_publishing', 'draft', { a: 1 }, { b: 2 });
    expect(availabilityGuardRequests(article, t)).toEqual(
      ['submit', 'approve', 'reject', 'publish'].map((transition) => ({
        transition,
        input: { data: { a: 1 }, metadata: { b: 2 } },
      })),
    );
  });

  it('reports a guard that could not be evaluated as GUARD_TOO_EXPENSIVE, and never as enabled', () => {
    const data = { content: 'c', title: 't', word_count: 150 };
    const until = '2024-05-01T10:01:00.000Z';
    const [submit, , , , publish] = availableTransitions(
      article,
      token('article_publishing', 'draft', data),
      new Map([
        ['submit', { status: 'too-expensive', message: 'quarantined', quarantinedUntil: until }],
      ]),
    );
    expect(submit).toMatchObject({
      enabled: false,
      reasons: [{ code: 'GUARD_TOO_EXPENSIVE', quarantinedUntil: until }],
    });
    // No verdict at all: not evaluated, so not enabled either.
    expect(publish?.reasons.map((r) => r.code)).toEqual(['WRONG_PLACE', 'GUARD_TOO_EXPENSIVE']);
  });
});
