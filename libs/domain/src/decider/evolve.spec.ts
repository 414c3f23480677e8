import { compiledFixture, T0 } from '../testing/fixtures';
import { created, given } from '../testing/given';
import { evolveToken, toToken } from './evolve';

const order = compiledFixture('order_processing');

describe('evolveToken', () => {
  it('folds a whole life: created, transitioned, updated → live; deleted → deleted', () => {
    const c = created(order, { tokenId: 't1', data: { payment_method: 'card' } });
    const t = given(order, c)
      .when({
        type: 'FireTransition',
        workflowId: 'order_processing',
        tokenId: 't1',
        transition: 'checkout',
      })
      .then();
    const u = given(order, c, t)
      .when({ type: 'UpdateToken', workflowId: 'order_processing', tokenId: 't1', data: { n: 1 } })
      .then();
    const d = given(order, c, t, u)
      .when({ type: 'DeleteToken', workflowId: 'order_processing', tokenId: 't1' })
      .then();

    expect(given(order, c).state).toEqual({ status: 'live', token: c.state });
    expect(given(order, c, t).state).toEqual({ status: 'live', token: t.state });
    expect(given(order, c, t, u).state).toEqual({ status: 'live', token: u.state });
    expect(given(order, c, t, u, d).state).toEqual({ status: 'deleted', token: d.state });
    expect(evolveToken({ status: 'absent' }, c)).toEqual({ status: 'live', token: c.state });
  });
});

describe('toToken', () => {
  it('adds the stream sequence of the last event as version', () => {
    const { state } = created(order, { tokenId: 't1' });
    expect(toToken(state, 17)).toEqual({ ...state, version: 17 });
    expect(toToken(state, 17).createdAt).toBe(T0);
  });
});
