import { MAX_JSON_DEPTH, type UpdateToken } from '@cb/schemas';
import { at, compiledFixture, T0 } from '../testing/fixtures';
import { created, given } from '../testing/given';

const order = compiledFixture('order_processing');
const update = (
  patches: Pick<UpdateToken, 'data' | 'metadata'>,
  workflowId = 'order_processing',
): UpdateToken => ({
  type: 'UpdateToken',
  workflowId,
  tokenId: 't1',
  ...patches,
});
const live = () => [created(order, { tokenId: 't1', data: { a: 1, b: [1] }, metadata: { m: 1 } })];

describe('UpdateToken', () => {
  it('given a live token, when updated, then both patches merge and the place clock is untouched', () => {
    const event = given(order, ...live())
      .when(update({ data: { b: [2], c: null, d: { e: 1 } }, metadata: { m: null } }), {
        now: at(9000),
      })
      .then();
    expect(event).toEqual({
      type: 'token.updated.v1',
      eventId: 'evt-1',
      occurredAt: at(9000),
      workflowId: 'order_processing',
      tokenId: 't1',
      dataPatch: { b: [2], c: null, d: { e: 1 } },
      metadataPatch: { m: null },
      state: {
        id: 't1',
        workflowId: 'order_processing',
        definitionVersion: 1,
        place: 'cart',
        data: { a: 1, b: [2], d: { e: 1 } },
        metadata: {},
        createdAt: T0,
        updatedAt: at(9000),
        placeEnteredAt: T0,
      },
    });
  });

  it('records only the patch that was given', () => {
    const event = given(order, ...live())
      .when(update({ metadata: { x: 1 } }))
      .then();
    expect(event).not.toHaveProperty('dataPatch');
    expect(event).toMatchObject({ metadataPatch: { x: 1 }, state: { data: { a: 1, b: [1] } } });
  });

  it('needs no workflow definition', () => {
    given(null, ...live())
      .when(update({ data: { z: 1 } }))
      .then();
  });

  it('given no token, then TOKEN_NOT_FOUND', () => {
    given(order)
      .when(update({ data: {} }))
      .thenError('TOKEN_NOT_FOUND');
  });

  it('given a deleted token, then TOKEN_NOT_FOUND', () => {
    const deleted = given(order, ...live())
      .when({ type: 'DeleteToken', workflowId: 'order_processing', tokenId: 't1' })
      .then();
    given(order, ...live(), deleted)
      .when(update({ data: {} }))
      .thenError('TOKEN_NOT_FOUND');
  });

  it('given a token of another workflow, then TOKEN_NOT_FOUND', () => {
    given(order, ...live())
      .when(update({ data: {} }, 'document_review'))
      .thenError('TOKEN_NOT_FOUND');
  });

  it('when neither data nor metadata is given, then VALIDATION_ERROR', () => {
    const error = given(order, ...live())
      .when(update({}))
      .thenError('VALIDATION_ERROR');
    expect(error.details).toEqual({
      errors: [{ path: '/', message: 'give data and/or metadata to update' }],
    });
  });

  it(`when metadata would nest deeper than ${MAX_JSON_DEPTH}, then VALIDATION_ERROR at /metadata`, () => {
    const deep: Record<string, unknown> = {};
    let node = deep;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) node = node['n'] = {};
    const error = given(order, ...live())
      .when(update({ metadata: deep }))
      .thenError('VALIDATION_ERROR');
    expect(error.details?.['errors']).toEqual([expect.objectContaining({ path: '/metadata' })]);
  });
});
