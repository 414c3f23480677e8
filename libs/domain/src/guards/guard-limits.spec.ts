import { type GuardSchema } from '@cb/schemas';
import { guardLimitError, MAX_GUARD_BYTES, MAX_GUARD_DEPTH, MAX_GUARD_PATHS } from './guard-limits';

const at = '/transitions/3/guard';
const check = (guard: GuardSchema) => guardLimitError(guard, at);

/** `$defs` d0 … dn where each d(i) is `anyOf` of two references to d(i+1): 2^n paths. */
function doublingChain(n: number): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i + 1}` }, { $ref: `#/$defs/d${i + 1}` }] };
  }
  defs[`d${n}`] = { type: 'string', minLength: 5 };
  return { $defs: defs, properties: { data: { properties: { x: { $ref: '#/$defs/d0' } } } } };
}

describe('guard definition-time limits', () => {
  it('accepts the fixtures’ kind of guards, local $refs and reused $defs', () => {
    expect(check({ type: 'object', properties: { data: { required: ['a'] } } })).toBeNull();
    expect(check(true)).toBeNull();
    expect(
      check({
        $defs: { name: { type: 'string', minLength: 1 } },
        properties: {
          data: { properties: { a: { $ref: '#/$defs/name' }, b: { $ref: '#/$defs/name' } } },
        },
      }),
    ).toBeNull();
    expect(
      check({ properties: { 'a b': { type: 'string' }, c: { $ref: '#/properties/a%20b' } } }),
    ).toBeNull();
    expect(check(doublingChain(9))).toBeNull(); // 512 paths
  });

  it('refuses a guard larger than MAX_GUARD_BYTES with GUARD_TOO_LARGE', () => {
    const guard = { description: 'x'.repeat(MAX_GUARD_BYTES) };
    expect(check(guard)).toMatchObject({ path: at, code: 'GUARD_TOO_LARGE' });
  });

  it('refuses a guard nested deeper than MAX_GUARD_DEPTH with GUARD_TOO_DEEP, without recursing', () => {
    let guard: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) guard = { not: guard };
    expect(check(guard)).toMatchObject({ path: at, code: 'GUARD_TOO_DEEP' });
    let ok: Record<string, unknown> = {};
    for (let i = 0; i < MAX_GUARD_DEPTH - 1; i++) ok = { not: ok };
    expect(check(ok)).toBeNull();
  });

  describe('issue 10, measured 2: a guard {"$ref":"#"} is accepted and then answers 500', () => {
    it.each([
      ['{"$ref":"#"}', { $ref: '#' }, '/$ref'],
      ['{"allOf":[{"$ref":"#"}]}', { allOf: [{ $ref: '#' }] }, '/allOf/0/$ref'],
      [
        'a cycle through $defs',
        {
          $defs: { a: { $ref: '#/$defs/b' }, b: { anyOf: [{ $ref: '#/$defs/a' }] } },
          $ref: '#/$defs/a',
        },
        '/$defs/b/anyOf/0/$ref',
      ],
      [
        'recursion through properties',
        {
          $defs: { node: { properties: { children: { items: { $ref: '#/$defs/node' } } } } },
          $ref: '#/$defs/node',
        },
        '/$defs/node/properties/children/items/$ref',
      ],
    ])('refuses %s with GUARD_REF_CYCLE', (_name, guard, pointer) => {
      expect(check(guard as GuardSchema)).toMatchObject({
        path: `${at}${pointer}`,
        code: 'GUARD_REF_CYCLE',
      });
    });
  });

  it.each([
    ['a remote $ref', { $ref: 'https://example.com/guard.json' }],
    ['a $ref to an anchor', { $ref: '#node' }],
    ['a $ref that does not resolve', { $ref: '#/$defs/missing' }],
    ['a $ref to a non-schema', { $defs: { n: 5 }, $ref: '#/$defs/n' }],
    ['$id', { $id: 'https://example.com/g', type: 'object' }],
    ['$dynamicRef', { $dynamicRef: '#meta' }],
    ['$anchor', { $defs: { a: { $anchor: 'x' } }, properties: { p: { $defs: {}, $anchor: 'y' } } }],
  ])('refuses %s with GUARD_REF_UNSUPPORTED', (_name, guard) => {
    expect(check(guard as GuardSchema)).toMatchObject({ code: 'GUARD_REF_UNSUPPORTED' });
  });

  it('refuses a 2 KB $defs chain of doubling anyOf/$ref (2^20 paths) with GUARD_TOO_MANY_PATHS, at once', () => {
    const guard = doublingChain(20);
    expect(JSON.stringify(guard).length).toBeLessThan(2500);
    const started = performance.now();
    expect(check(guard)).toMatchObject({ path: at, code: 'GUARD_TOO_MANY_PATHS' });
    expect(check(doublingChain(10))).toMatchObject({ code: 'GUARD_TOO_MANY_PATHS' }); // 1024
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('counts every anyOf/oneOf/allOf branch as paths', () => {
    const wide = { anyOf: Array.from({ length: MAX_GUARD_PATHS }, (_, i) => ({ const: i })) };
    expect(check(wide)).toBeNull();
    expect(check({ oneOf: [...wide.anyOf, { const: -1 }] })).toMatchObject({
      code: 'GUARD_TOO_MANY_PATHS',
    });
  });
});
