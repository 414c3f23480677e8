import { attributeText } from './search-attributes';

describe('attributeText', () => {
  const state = {
    data: { customer: 'acme', amount: 12.5, open: false, nested: { a: 1 }, list: [1], none: null },
    metadata: { region: 'eu' },
  };

  it('reads scalar metadata and data fields as text', () => {
    expect(attributeText(state, 'metadata.region')).toBe('eu');
    expect(attributeText(state, 'data.customer')).toBe('acme');
    expect(attributeText(state, 'data.amount')).toBe('12.5');
    expect(attributeText(state, 'data.open')).toBe('false');
  });

  it('does not index absent, null, object or inherited values', () => {
    for (const attr of ['data.nested', 'data.list', 'data.none', 'data.missing', 'data.toString']) {
      expect(attributeText(state, attr)).toBeUndefined();
    }
    expect(attributeText({ data: [], metadata: 'x' }, 'metadata.length')).toBeUndefined();
    expect(attributeText(state, 'other.region')).toBeUndefined();
  });
});
