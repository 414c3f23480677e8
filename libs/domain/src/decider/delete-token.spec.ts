import { type DeleteToken } from '@cb/schemas';
import { at, compiledFixture, T0 } from '../testing/fixtures';
import { created, given } from '../testing/given';

const order = compiledFixture('order_processing');
const remove = (workflowId = 'order_processing'): DeleteToken => ({
  type: 'DeleteToken',
  workflowId,
  tokenId: 't1',
});
const live = () => [created(order, { tokenId: 't1', place: 'paid', data: { a: 1 } })];

describe('DeleteToken', () => {
  it('given a live token, when deleted, then the event keeps its last state and time in place', () => {
    const event = given(order, ...live())
      .when(remove(), { now: at(42_000), triggeredBy: 'ops' })
      .then();
    expect(event).toEqual({
      type: 'token.deleted.v1',
      eventId: 'evt-1',
      occurredAt: at(42_000),
      triggeredBy: 'ops',
      workflowId: 'order_processing',
      tokenId: 't1',
      place: 'paid',
      timeInPlaceMs: 42_000,
      state: {
        id: 't1',
        workflowId: 'order_processing',
        definitionVersion: 1,
        place: 'paid',
        data: { a: 1 },
        metadata: {},
        createdAt: T0,
        updatedAt: at(42_000),
        placeEnteredAt: T0,
      },
    });
  });

  it('needs no workflow definition', () => {
    given(null, ...live())
      .when(remove())
      .then();
  });

  it('given no token, then TOKEN_NOT_FOUND', () => {
    given(order).when(remove()).thenError('TOKEN_NOT_FOUND');
  });

  it('given an already deleted token, then TOKEN_NOT_FOUND', () => {
    const deleted = given(order, ...live())
      .when(remove())
      .then();
    given(order, ...live(), deleted)
      .when(remove())
      .thenError('TOKEN_NOT_FOUND');
  });

  it('given the stream of another token id, then TOKEN_NOT_FOUND', () => {
    given(order, ...live())
      .when({ type: 'DeleteToken', workflowId: 'order_processing', tokenId: 't2' })
      .thenError('TOKEN_NOT_FOUND');
  });

  it('given a token of another workflow, then TOKEN_NOT_FOUND', () => {
    given(order, ...live())
      .when(remove('document_review'))
      .thenError('TOKEN_NOT_FOUND');
  });
});
