import { diffJson, sameJson, shortJson } from './json-diff';

describe('diffJson', () => {
  it('lists added, removed and changed keys as JSON Pointers', () => {
    expect(
      diffJson(
        { a: 1, b: { c: 'x', d: [1, 2] }, gone: true },
        { a: 2, b: { c: 'x', d: [1, 3, 4] }, n: null },
        '/data',
      ),
    ).toEqual([
      { path: '/data/a', kind: 'changed', before: 1, after: 2 },
      { path: '/data/b/d/1', kind: 'changed', before: 2, after: 3 },
      { path: '/data/b/d/2', kind: 'added', after: 4 },
      { path: '/data/n', kind: 'added', after: null },
      { path: '/data/gone', kind: 'removed', before: true },
    ]);
  });

  it('finds nothing between equal values, whatever the key order', () => {
    expect(diffJson({ a: 1, b: { x: [1, { y: 2 }] } }, { b: { x: [1, { y: 2 }] }, a: 1 })).toEqual(
      [],
    );
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
  });

  it('a change of type is one change of the whole value', () => {
    expect(diffJson({ a: { b: 1 } }, { a: [1] })).toEqual([
      { path: '/a', kind: 'changed', before: { b: 1 }, after: [1] },
    ]);
    expect(diffJson({ a: 1 }, { a: '1' })).toEqual([
      { path: '/a', kind: 'changed', before: 1, after: '1' },
    ]);
  });

  it('escapes ~ and / in keys (RFC 6901)', () => {
    expect(diffJson({}, { 'a/b': 1, 'c~d': 2 })).toEqual([
      { path: '/a~1b', kind: 'added', after: 1 },
      { path: '/c~0d', kind: 'added', after: 2 },
    ]);
  });

  it('is bounded: at most `limit` changes, and a hostile prototype key is a key', () => {
    const before = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, i]));
    expect(diffJson(before, {}, '', 10)).toHaveLength(10);
    const proto = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, never>;
    expect(diffJson({}, proto)).toEqual([{ path: '/__proto__', kind: 'added', after: { x: 1 } }]);
  });

  it('shortJson cuts long values', () => {
    expect(shortJson('x'.repeat(200), 10)).toHaveLength(10);
    expect(shortJson(undefined)).toBe('—');
    expect(shortJson({ a: 1 })).toBe('{"a":1}');
  });
});
