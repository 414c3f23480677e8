import { compiledFixture, FIXTURES, fixture, type FixtureName, stored } from '../testing/fixtures';
import { compileWorkflow } from './compiled-workflow';

describe('compileWorkflow', () => {
  it.each(Object.keys(FIXTURES) as FixtureName[])('compiles the %s fixture', (name) => {
    const workflow = compiledFixture(name);
    expect(workflow.definition.id).toBe(name);
    expect(workflow.analysis).toEqual({ unreachablePlaces: [], deadEndPlaces: [] });
  });

  it('indexes transitions, places and final places', () => {
    const order = compiledFixture('order_processing');
    expect(order.transition('cancel')?.from).toEqual(['cart', 'payment_pending']);
    expect(order.transition('teleport')).toBeUndefined();
    expect(order.hasPlace('paid')).toBe(true);
    expect(order.hasPlace('nowhere')).toBe(false);
    expect(order.isFinal('delivered')).toBe(true);
    expect(order.isFinal('cancelled')).toBe(true);
    expect(order.isFinal('paid')).toBe(false);
  });

  it('compiles no guard: a stored guard that would not compile is left to the guard evaluation', () => {
    const def = stored(fixture('document_review'));
    def.transitions[1] = { ...def.transitions[1]!, guard: { tpye: 'object' } };
    expect(compileWorkflow(def).transition(def.transitions[1]!.id)?.guard).toEqual({
      tpye: 'object',
    });
  });
});
