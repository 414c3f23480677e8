import { escapePointerToken, parsePointer, resolvePointer } from './json-pointer';

describe('parsePointer', () => {
  it('splits and unescapes reference tokens (RFC 6901)', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/')).toEqual(['']);
    expect(parsePointer('/data/publishAt')).toEqual(['data', 'publishAt']);
    expect(parsePointer('/data/a~1b/c~0d/~01')).toEqual(['data', 'a/b', 'c~d', '~1']);
    expect(parsePointer('/data/items/0')).toEqual(['data', 'items', '0']);
  });

  it('round-trips escapePointerToken', () => {
    const token = 'a/~b~1/';
    expect(parsePointer(`/${escapePointerToken(token)}`)).toEqual([token]);
  });

  it.each(['data', 'data/x', '#/data/x', '/data/a~', '/data/a~2', '/data/~x'])(
    'refuses %j',
    (pointer) => {
      expect(parsePointer(pointer)).toBeNull();
    },
  );
});

describe('resolvePointer', () => {
  const root = {
    data: { when: '2024-05-01T09:00:00Z', items: ['x', { at: 'y' }], 'a/b': 1, empty: null },
    metadata: {},
  };

  it('follows object keys and array indexes', () => {
    expect(resolvePointer(root, ['data', 'when'])).toBe('2024-05-01T09:00:00Z');
    expect(resolvePointer(root, ['data', 'items', '1', 'at'])).toBe('y');
    expect(resolvePointer(root, ['data', 'a/b'])).toBe(1);
    expect(resolvePointer(root, ['data', 'empty'])).toBeNull();
    expect(resolvePointer(root, [])).toBe(root);
  });

  it.each([
    [['data', 'nope']],
    [['data', 'when', 'x']],
    [['data', 'items', '2']],
    [['data', 'items', '01']],
    [['data', 'items', '-']],
    [['data', 'items', 'length']],
    [['data', '__proto__']],
    [['data', 'constructor']],
    [['metadata', 'toString']],
    [['data', 'empty', 'x']],
  ])('names nothing at %j', (tokens) => {
    expect(resolvePointer(root, tokens)).toBeUndefined();
  });
});
