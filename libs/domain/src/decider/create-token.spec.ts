import { type CreateToken, MAX_JSON_DEPTH } from '@cb/schemas';
import { compiledFixture, T0 } from '../testing/fixtures';
import { created, given } from '../testing/given';

const order = compiledFixture('order_processing');
const create = (fields: Omit<CreateToken, 'type' | 'workflowId'> = {}): CreateToken => ({
  type: 'CreateToken',
  workflowId: 'order_processing',
  ...fields,
});

function nested(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 1; i < levels; i++) node = node['n'] = {};
  return root;
}

describe('CreateToken', () => {
  it('given nothing, when created with defaults, then the token starts in the initial place', () => {
    const event = given(order).when(create()).then();
    expect(event).toEqual({
      type: 'token.created.v1',
      eventId: 'evt-1',
      occurredAt: T0,
      workflowId: 'order_processing',
      tokenId: 'tok-generated',
      place: 'cart',
      state: {
        id: 'tok-generated',
        workflowId: 'order_processing',
        definitionVersion: 1,
        place: 'cart',
        data: {},
        metadata: {},
        createdAt: T0,
        updatedAt: T0,
        placeEnteredAt: T0,
      },
    });
  });

  it('uses the client id, place, data and metadata, and pins the definition version', () => {
    const v3 = compiledFixture('order_processing', 3);
    const event = given(v3)
      .when(
        create({
          tokenId: 'order-42',
          place: 'paid',
          data: { total: 10 },
          metadata: { src: 'web' },
        }),
        { triggeredBy: 'ana', requestId: 'req-1' },
      )
      .then();
    expect(event).toMatchObject({
      tokenId: 'order-42',
      place: 'paid',
      triggeredBy: 'ana',
      requestId: 'req-1',
      state: {
        id: 'order-42',
        place: 'paid',
        definitionVersion: 3,
        data: { total: 10 },
        metadata: { src: 'web' },
      },
    });
  });

  it('given no workflow, then WORKFLOW_NOT_FOUND', () => {
    expect(given(null).when(create()).thenError('WORKFLOW_NOT_FOUND').details).toEqual({
      workflowId: 'order_processing',
    });
  });

  it('given a live token with that id, then TOKEN_EXISTS', () => {
    const error = given(order, created(order, { tokenId: 'o1' }))
      .when(create({ tokenId: 'o1' }))
      .thenError('TOKEN_EXISTS');
    expect(error.details).toEqual({ workflowId: 'order_processing', tokenId: 'o1' });
  });

  it('given a deleted token with that id, then TOKEN_EXISTS: ids are never reused', () => {
    const history = given(order, created(order, { tokenId: 'o1' }));
    const deleted = history
      .when({ type: 'DeleteToken', workflowId: 'order_processing', tokenId: 'o1' })
      .then();
    given(order, created(order, { tokenId: 'o1' }), deleted)
      .when(create({ tokenId: 'o1' }))
      .thenError('TOKEN_EXISTS');
  });

  it('when the place is not declared, then VALIDATION_ERROR at /place', () => {
    const error = given(order)
      .when(create({ place: 'limbo' }))
      .thenError('VALIDATION_ERROR');
    expect(error.details).toEqual({
      errors: [
        { path: '/place', message: '"limbo" is not a place of workflow "order_processing"' },
      ],
    });
  });

  it(`when data or metadata nest deeper than ${MAX_JSON_DEPTH}, then VALIDATION_ERROR listing both`, () => {
    const deep = nested(MAX_JSON_DEPTH + 1);
    const error = given(order)
      .when(create({ place: 'limbo', data: deep, metadata: nested(10_000) }))
      .thenError('VALIDATION_ERROR');
    expect((error.details?.['errors'] as Array<{ path: string }>).map((e) => e.path)).toEqual([
      '/place',
      '/data',
      '/metadata',
    ]);
  });

  it(`accepts data exactly ${MAX_JSON_DEPTH} levels deep`, () => {
    given(order)
      .when(create({ data: nested(MAX_JSON_DEPTH) }))
      .then();
  });

  it('given the definition of another workflow, then INTERNAL_ERROR (a caller bug)', () => {
    const article = compiledFixture('article_publishing');
    given(article).when(create()).thenError('INTERNAL_ERROR');
  });
});
