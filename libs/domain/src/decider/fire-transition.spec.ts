import { guardRequestsFor } from './decide-token';
import { type FireTransition, MAX_JSON_DEPTH, type TokenEvent } from '@cb/schemas';
import { at, compiledFixture, T0 } from '../testing/fixtures';
import { as, created, given } from '../testing/given';

const article = compiledFixture('article_publishing');
const order = compiledFixture('order_processing');

function fire(
  workflowId: string,
  transition: string,
  patches: Pick<FireTransition, 'data' | 'metadata'> = {},
  tokenId = 't1',
): FireTransition {
  return { type: 'FireTransition', workflowId, tokenId, transition, ...patches };
}

/** A token of order_processing moved along `path` one minute apart. */
function orderHistory(...path: string[]): TokenEvent[] {
  const events: TokenEvent[] = [
    created(order, { tokenId: 't1', data: { payment_method: 'card' } }),
  ];
  path.forEach((transition, i) => {
    const next = given(order, ...events)
      .when(fire('order_processing', transition), { now: at((i + 1) * 60_000), eventId: `e${i}` })
      .then();
    events.push(next);
  });
  return events;
}

describe('FireTransition', () => {
  it('given a token in cart, when checkout fires, then it moves with full bookkeeping', () => {
    const event = given(order, ...orderHistory())
      .when(fire('order_processing', 'checkout'), { now: at(1500), triggeredBy: 'ana' })
      .then();
    expect(event).toEqual({
      type: 'token.transitioned.v1',
      eventId: 'evt-1',
      occurredAt: at(1500),
      triggeredBy: 'ana',
      workflowId: 'order_processing',
      tokenId: 't1',
      transition: 'checkout',
      from: 'cart',
      to: 'payment_pending',
      timeInPlaceMs: 1500,
      toFinal: false,
      state: {
        id: 't1',
        workflowId: 'order_processing',
        definitionVersion: 1,
        place: 'payment_pending',
        data: { payment_method: 'card' },
        metadata: {},
        createdAt: T0,
        updatedAt: at(1500),
        placeEnteredAt: at(1500),
        lastTransition: {
          id: 'checkout',
          from: 'cart',
          to: 'payment_pending',
          at: at(1500),
          triggeredBy: 'ana',
        },
      },
    });
    expect(event).not.toHaveProperty('dataPatch');
    expect(event).not.toHaveProperty('metadataPatch');
  });

  it('given data {a:1}, when fired with data {b:2}, then data is {a:1,b:2} and the patch is recorded', () => {
    const history = [created(order, { tokenId: 't1', data: { a: 1 } })];
    const event = as(
      'token.transitioned.v1',
      given(order, ...history)
        .when(fire('order_processing', 'checkout', { data: { b: 2 } }))
        .then(),
    );
    expect(event.dataPatch).toEqual({ b: 2 });
    expect(event.state.data).toEqual({ a: 1, b: 2 });
  });

  it('applies null as delete and replaces arrays, in data and metadata', () => {
    const history = [
      created(order, {
        tokenId: 't1',
        data: { a: 1, tags: ['x', 'y'] },
        metadata: { m: 1, keep: true },
      }),
    ];
    const event = as(
      'token.transitioned.v1',
      given(order, ...history)
        .when(
          fire('order_processing', 'checkout', {
            data: { a: null, tags: ['z'] },
            metadata: { m: null, by: 'ana' },
          }),
        )
        .then(),
    );
    expect(event.state.data).toEqual({ tags: ['z'] });
    expect(event.state.metadata).toEqual({ keep: true, by: 'ana' });
    expect(event.metadataPatch).toEqual({ m: null, by: 'ana' });
  });

  it('given a token that entered its place later than "now", then timeInPlaceMs is 0', () => {
    const history = [created(order, { tokenId: 't1' }, { now: at(5000) })];
    const event = as(
      'token.transitioned.v1',
      given(order, ...history)
        .when(fire('order_processing', 'checkout'), { now: at(1000) })
        .then(),
    );
    expect(event.timeInPlaceMs).toBe(0);
  });

  it('follows a token through to a final place', () => {
    const events = orderHistory('checkout', 'pay', 'ship', 'deliver');
    const last = as('token.transitioned.v1', events[events.length - 1]!);
    expect(last).toMatchObject({
      from: 'shipped',
      to: 'delivered',
      toFinal: true,
      timeInPlaceMs: 60_000,
    });
    expect(last.state).toMatchObject({
      place: 'delivered',
      createdAt: T0,
      placeEnteredAt: at(240_000),
    });
  });

  it.each([
    [[], 'cart'],
    [['checkout'], 'payment_pending'],
  ])('given a token after %j, when cancel fires, then it leaves %s for cancelled', (path, from) => {
    const event = given(order, ...orderHistory(...path))
      .when(fire('order_processing', 'cancel'), { now: at(3_600_000) })
      .then();
    expect(event).toMatchObject({ from, to: 'cancelled', toFinal: true });
  });

  describe('errors', () => {
    it('given no token, then TOKEN_NOT_FOUND', () => {
      const error = given(order)
        .when(fire('order_processing', 'checkout'))
        .thenError('TOKEN_NOT_FOUND');
      expect(error.details).toEqual({ workflowId: 'order_processing', tokenId: 't1' });
    });

    it('given a deleted token, then TOKEN_NOT_FOUND', () => {
      const history = orderHistory();
      const deleted = given(order, ...history)
        .when({ type: 'DeleteToken', workflowId: 'order_processing', tokenId: 't1' })
        .then();
      given(order, ...history, deleted)
        .when(fire('order_processing', 'checkout'))
        .thenError('TOKEN_NOT_FOUND');
    });

    it('given a token of another workflow, then TOKEN_NOT_FOUND', () => {
      given(order, ...orderHistory())
        .when(fire('article_publishing', 'checkout'))
        .thenError('TOKEN_NOT_FOUND');
    });

    it('given no workflow definition, then WORKFLOW_NOT_FOUND', () => {
      given(null, ...orderHistory())
        .when(fire('order_processing', 'checkout'))
        .thenError('WORKFLOW_NOT_FOUND');
    });

    it('given a definition other than the pinned version, then INTERNAL_ERROR (a caller bug)', () => {
      given(compiledFixture('order_processing', 2), ...orderHistory())
        .when(fire('order_processing', 'checkout'))
        .thenError('INTERNAL_ERROR');
    });

    it('when the transition does not exist, then TRANSITION_NOT_ENABLED with what is enabled', () => {
      const error = given(order, ...orderHistory())
        .when(fire('order_processing', 'teleport'))
        .thenError('TRANSITION_NOT_ENABLED');
      expect(error.details).toEqual({
        transition: 'teleport',
        place: 'cart',
        enabledTransitions: ['checkout', 'cancel'],
      });
    });

    it('when the token is not in a source place, then TRANSITION_NOT_ENABLED', () => {
      const error = given(order, ...orderHistory('checkout', 'pay'))
        .when(fire('order_processing', 'cancel'))
        .thenError('TRANSITION_NOT_ENABLED');
      expect(error.message).toBe('transition "cancel" cannot fire from "paid"');
      expect(error.details).toEqual({
        transition: 'cancel',
        place: 'paid',
        enabledTransitions: ['ship'],
      });
    });

    it('lists only transitions whose guard passes as enabled', () => {
      const history = [created(order, { tokenId: 't1', place: 'payment_pending' })];
      const error = given(order, ...history)
        .when(fire('order_processing', 'ship'))
        .thenError('TRANSITION_NOT_ENABLED');
      expect(error.details?.['enabledTransitions']).toEqual(['cancel']);
    });

    it(`when a patch makes data deeper than ${MAX_JSON_DEPTH}, then VALIDATION_ERROR at /data`, () => {
      const deep: Record<string, unknown> = {};
      let node = deep;
      for (let i = 0; i < 10_000; i++) node = node['n'] = {};
      const error = given(order, ...orderHistory())
        .when(fire('order_processing', 'checkout', { data: deep }))
        .thenError('VALIDATION_ERROR');
      expect(error.details?.['errors']).toEqual([
        { path: '/data', message: `data nests deeper than ${MAX_JSON_DEPTH} levels` },
      ]);
    });
  });

  describe('guards (article_publishing)', () => {
    const draft = () => [created(article, { tokenId: 't1', data: { content: 'c', title: 't' } })];

    it('given word_count 50, when submit fires, then GUARD_FAILED at /data/word_count', () => {
      const history = [
        created(article, { tokenId: 't1', data: { content: 'c', title: 't', word_count: 50 } }),
      ];
      const error = given(article, ...history)
        .when(fire('article_publishing', 'submit'))
        .thenError('GUARD_FAILED');
      expect(error.details).toEqual({
        transition: 'submit',
        failures: [
          expect.objectContaining({ path: '/data/word_count', keyword: 'exclusiveMinimum' }),
        ],
        failureCount: 1,
      });
    });

    it('given missing fields, then GUARD_FAILED names each one', () => {
      const history = [created(article, { tokenId: 't1' })];
      const error = given(article, ...history)
        .when(fire('article_publishing', 'submit'))
        .thenError('GUARD_FAILED');
      const failures = error.details?.['failures'] as Array<{ path: string }>;
      expect(failures.map((f) => f.path)).toEqual([
        '/data/content',
        '/data/title',
        '/data/word_count',
      ]);
    });

    it('sees the patched token: the fire itself can supply word_count 150', () => {
      const event = given(article, ...draft())
        .when(fire('article_publishing', 'submit', { data: { word_count: 150 } }))
        .then();
      expect(event).toMatchObject({
        to: 'review',
        dataPatch: { word_count: 150 },
        state: { data: { content: 'c', title: 't', word_count: 150 } },
      });
    });

    it('given a too-short patch, then GUARD_FAILED and nothing is decided', () => {
      given(article, ...draft())
        .when(fire('article_publishing', 'submit', { data: { word_count: 100 } }))
        .thenError('GUARD_FAILED');
    });

    it('publishes through the emergency branch with metadata.emergency = true', () => {
      const approved = [created(article, { tokenId: 't1', place: 'approved' })];
      const event = given(article, ...approved)
        .when(fire('article_publishing', 'publish', { metadata: { emergency: true } }))
        .then();
      expect(event).toMatchObject({ to: 'published', toFinal: true });
    });

    it('given neither publish branch, then failures from both branches and anyOf', () => {
      const approved = [
        created(article, { tokenId: 't1', place: 'approved', data: { content: 'c' } }),
      ];
      const error = given(article, ...approved)
        .when(fire('article_publishing', 'publish'))
        .thenError('GUARD_FAILED');
      const failures = error.details?.['failures'] as Array<{ schemaPath: string; path: string }>;
      expect(failures.some((f) => f.schemaPath.startsWith('#/anyOf/0/'))).toBe(true);
      expect(failures.some((f) => f.schemaPath.startsWith('#/anyOf/1/'))).toBe(true);
      expect(failures[failures.length - 1]).toMatchObject({ path: '', keyword: 'anyOf' });
    });
  });

  describe('guard verdicts are an input', () => {
    const draft = () => [created(article, { tokenId: 't1', data: { content: 'c', title: 't' } })];
    const submit = fire('article_publishing', 'submit', { data: { word_count: 150 } });

    it('asks for the fired guard on the patched token, and only that', () => {
      const state = given(article, ...draft()).state;
      expect(guardRequestsFor(submit, state, article)).toEqual([
        {
          transition: 'submit',
          input: { data: { content: 'c', title: 't', word_count: 150 }, metadata: {} },
        },
      ]);
    });

    it('asks for the guards of the transitions from the place when the fired one cannot fire', () => {
      const history = [created(order, { tokenId: 't1', place: 'payment_pending' })];
      const state = given(order, ...history).state;
      expect(
        guardRequestsFor(fire('order_processing', 'ship'), state, order).map((r) => r.transition),
      ).toEqual(['pay']);
    });

    it('when the verdict is too-expensive, then GUARD_TOO_EXPENSIVE and nothing is decided', () => {
      const error = given(article, ...draft())
        .when(submit, {
          guardVerdicts: new Map([
            [
              'submit',
              {
                status: 'too-expensive',
                message: 'quarantined',
                quarantinedUntil: '2024-05-01T10:01:00.000Z',
              },
            ],
          ]),
        })
        .thenError('GUARD_TOO_EXPENSIVE');
      expect(error.details).toEqual({
        transition: 'submit',
        quarantinedUntil: '2024-05-01T10:01:00.000Z',
      });
    });

    it('never takes a missing verdict as passing', () => {
      given(article, ...draft())
        .when(submit, { guardVerdicts: new Map() })
        .thenError('INTERNAL_ERROR');
    });

    it('takes the verdict it is given, not its own evaluation', () => {
      const event = given(article, ...[created(article, { tokenId: 't1' })])
        .when(fire('article_publishing', 'submit'), {
          guardVerdicts: new Map([['submit', { status: 'passed' }]]),
        })
        .then();
      expect(event).toMatchObject({ to: 'review' });
    });
  });
});
