import { MAX_JSON_DEPTH } from '@cb/schemas';
import { jsonDepthExceeds } from './json-depth';

/** `levels` nested objects, built iteratively. */
function nested(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let node = root;
  for (let i = 1; i < levels; i++) node = node['n'] = {};
  return root;
}

describe('jsonDepthExceeds', () => {
  it('counts scalars as depth 0 and each object or array level as 1', () => {
    expect(jsonDepthExceeds('x', 0)).toBe(false);
    expect(jsonDepthExceeds(null, 0)).toBe(false);
    expect(jsonDepthExceeds({}, 0)).toBe(true);
    expect(jsonDepthExceeds({}, 1)).toBe(false);
    expect(jsonDepthExceeds({ a: [1] }, 1)).toBe(true);
    expect(jsonDepthExceeds({ a: [1] }, 2)).toBe(false);
    expect(jsonDepthExceeds([[[]]], 2)).toBe(true);
  });

  it('finds the deepest branch, not just the first', () => {
    expect(jsonDepthExceeds({ a: 1, b: { c: 2 }, d: [{ e: { f: [] } }] }, 4)).toBe(true);
    expect(jsonDepthExceeds({ a: 1, b: { c: 2 }, d: [{ e: { f: [] } }] }, 5)).toBe(false);
  });

  it(`accepts exactly MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) levels and rejects one more`, () => {
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(jsonDepthExceeds(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
  });

  it('given 10,000 levels, returns true without overflowing the stack', () => {
    const deep = nested(10_000);
    expect(() => jsonDepthExceeds(deep, MAX_JSON_DEPTH)).not.toThrow();
    expect(jsonDepthExceeds(deep, MAX_JSON_DEPTH)).toBe(true);
  });

  it('walks 10,000 levels to the bottom iteratively when the limit allows it', () => {
    expect(jsonDepthExceeds(nested(10_000), 10_000)).toBe(false);
    expect(jsonDepthExceeds(nested(10_001), 10_000)).toBe(true);
  });

  it('terminates on a cyclic object', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(jsonDepthExceeds(cyclic, MAX_JSON_DEPTH)).toBe(true);
  });
});
