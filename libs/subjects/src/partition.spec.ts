import { fnv1a32, partitionOf } from './partition';

describe('fnv1a32', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('matches the published FNV-1a test vector for %j', (input, expected) => {
    expect(fnv1a32(input)).toBe(expected);
  });

  it('is unsigned', () => {
    for (const id of ['x', 'token-1', '0190f0c4-6b1e-7c3a-9d7e-1b2c3d4e5f60']) {
      expect(fnv1a32(id)).toBeGreaterThanOrEqual(0);
    }
  });
});

describe('partitionOf', () => {
  it('is stable: pinned values never change (existing tokens depend on them)', () => {
    expect(partitionOf('order-1', 8)).toBe(fnv1a32('order-1') % 8);
    expect([partitionOf('a', 8), partitionOf('b', 8), partitionOf('c', 8)]).toEqual([4, 5, 2]);
  });

  it('spreads ids over every partition roughly evenly', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`tok-${i}`, 8)]! += 1;
    for (const c of counts) {
      expect(c).toBeGreaterThan(800);
      expect(c).toBeLessThan(1200);
    }
  });
});
