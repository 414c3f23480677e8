import { ListSnapshots, firstAfter, type SnapshotEntry } from './list-snapshots';

const marks = () => 0;
const entries = (...ids: string[]): SnapshotEntry[] =>
  ids.map((id) => ({ id, data: new TextEncoder().encode(JSON.stringify({ id })) }));

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('ListSnapshots', () => {
  it('serves a snapshot to its own list until it expires', () => {
    const c = clock();
    const snapshots = new ListSnapshots({ ttlMs: 10_000, maxBytes: 1 << 20, now: c.now });
    const id = snapshots.put('tokens:wf:draft:[]', entries('a', 'b'), 42, marks)!;
    expect(id).toEqual(expect.any(String));
    expect(snapshots.get(id, 'tokens:wf:draft:[]')).toMatchObject({ asOf: 42 });
    // Another list (or the same list with another filter) never gets it.
    expect(snapshots.get(id, 'tokens:wf:review:[]')).toBeUndefined();
    expect(snapshots.get('unknown', 'tokens:wf:draft:[]')).toBeUndefined();
    c.advance(9_999);
    expect(snapshots.get(id, 'tokens:wf:draft:[]')).toBeDefined();
    c.advance(1);
    expect(snapshots.get(id, 'tokens:wf:draft:[]')).toBeUndefined();
    expect(snapshots.size).toBe(0);
    expect(snapshots.bytes).toBe(0);
  });

  it('evicts the oldest snapshots to stay within its memory budget', () => {
    const one = new ListSnapshots({ ttlMs: 10_000, maxBytes: 1 << 20 });
    one.put('l', entries('a', 'b', 'c'), 1, marks);
    const size = one.bytes;

    const snapshots = new ListSnapshots({ ttlMs: 10_000, maxBytes: size * 2 });
    const first = snapshots.put('l', entries('a', 'b', 'c'), 1, marks)!;
    const second = snapshots.put('l', entries('a', 'b', 'c'), 2, marks)!;
    expect(snapshots.bytes).toBe(size * 2);
    const third = snapshots.put('l', entries('a', 'b', 'c'), 3, marks)!;
    expect(snapshots.get(first, 'l')).toBeUndefined();
    expect(snapshots.get(second, 'l')).toBeDefined();
    expect(snapshots.get(third, 'l')).toBeDefined();
    expect(snapshots.bytes).toBe(size * 2);
  });

  it('keeps nothing that would take over half the budget, nothing empty, nothing when off', () => {
    const small = new ListSnapshots({ ttlMs: 10_000, maxBytes: 200 });
    expect(small.put('l', entries('a', 'b', 'c'), 1, marks)).toBeUndefined();
    const roomy = new ListSnapshots({ ttlMs: 10_000, maxBytes: 1 << 20 });
    expect(roomy.put('l', [], 1, marks)).toBeUndefined();
    const off = new ListSnapshots({ ttlMs: 0, maxBytes: 1 << 20 });
    expect(off.put('l', entries('a'), 1, marks)).toBeUndefined();
    expect(small.size + roomy.size + off.size).toBe(0);
  });

  it('finds the first entry after an id by binary search', () => {
    const list = entries('b', 'd', 'f');
    expect(firstAfter(list, 'a')).toBe(0);
    expect(firstAfter(list, 'b')).toBe(1);
    expect(firstAfter(list, 'c')).toBe(1);
    expect(firstAfter(list, 'f')).toBe(3);
    expect(firstAfter(list, 'z')).toBe(3);
    expect(firstAfter([], 'a')).toBe(0);
  });
});
