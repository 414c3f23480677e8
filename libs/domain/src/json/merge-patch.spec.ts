import { mergePatch } from './merge-patch';

describe('mergePatch (RFC 7386)', () => {
  // RFC 7386 Appendix A, every example.
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('given %j, when patched with %j, then %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('adds, replaces arrays and deletes with null in one patch', () => {
    const target = { a: 1, tags: ['x', 'y'], nested: { keep: true, drop: 1 } };
    const patch = { b: 2, tags: ['z'], nested: { drop: null } };
    expect(mergePatch(target, patch)).toEqual({
      a: 1,
      tags: ['z'],
      nested: { keep: true },
      b: 2,
    });
  });

  it('never mutates the target or the patch', () => {
    const target = { a: { b: 1, c: [1, 2] }, d: 'x' };
    const patch = { a: { b: null, e: { f: 1 } }, d: null };
    const before = JSON.stringify({ target, patch });
    const result = mergePatch(target, patch) as Record<string, unknown>;
    result['mutated'] = true;
    expect(JSON.stringify({ target, patch })).toBe(before);
    expect(result).not.toBe(target);
  });

  it('keeps the target key order and appends new keys in patch order', () => {
    const result = mergePatch({ z: 1, a: 2, m: 3 }, { y: 9, a: 4, b: 5 });
    expect(Object.keys(result as object)).toEqual(['z', 'a', 'm', 'y', 'b']);
  });

  it('stores "__proto__" as a plain key without touching any prototype', () => {
    const patch: unknown = JSON.parse(
      '{"__proto__": {"polluted": true}, "a": {"__proto__": {"x": 1}}}',
    );
    const result = mergePatch({}, patch) as Record<string, unknown>;

    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(result))).toEqual(JSON.parse(JSON.stringify(patch)));
  });

  it('merges into an own "__proto__" key and ignores inherited ones', () => {
    const target: unknown = JSON.parse('{"__proto__": {"a": 1}}');
    const patch: unknown = JSON.parse('{"__proto__": {"b": 2}, "toString": {"c": 3}}');
    const result = mergePatch(target, patch);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"a":1,"b":2},"toString":{"c":3}}');
    expect(Object.prototype.toString).toBeInstanceOf(Function);
  });

  it('treats "constructor" as data, never reaching Object.prototype', () => {
    const patch: unknown = JSON.parse('{"constructor": {"prototype": {"polluted": true}}}');
    const result = mergePatch({}, patch) as Record<string, unknown>;
    expect(Object.hasOwn(result, 'constructor')).toBe(true);
    expect(result['constructor']).toEqual({ prototype: { polluted: true } });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('applies a 10,000-level patch without recursion', () => {
    const patch: Record<string, unknown> = {};
    let node = patch;
    for (let i = 0; i < 10_000; i++) node = node['n'] = {};
    expect(() => mergePatch({ keep: 1 }, patch)).not.toThrow();
  });
});
