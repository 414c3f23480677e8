import {
  CHUNK_MAX_IDS,
  CHUNK_MIN_IDS,
  RETIRED_GRACE_MS,
  chunkPosition,
  chunksToRead,
  clipToRange,
  emptyHead,
  firstAfter,
  planIndexEdit,
  type IndexHead,
} from './ordered-index';

/** A tiny KV of one index: the head and the chunks by id. */
class Store {
  head: IndexHead = emptyHead('c0');
  chunks = new Map<string, string[]>();
  private n = 1;
  newId = (): string => `c${this.n++}`;

  /** What a reader sees: each chunk clipped to its range in the head, in order. */
  visible(head = this.head, chunks = this.chunks): string[] {
    return head.chunks.flatMap((c, p) => clipToRange(head, p, chunks.get(c.id) ?? []));
  }

  /** The simulated clock (ms), for retirements. */
  now = 0;

  /**
   * Apply an edit, checking what a reader sees between each of its writes — a reader of the
   * current head, and one that read the head before the edit and its chunks only afterwards.
   */
  edit(ops: Map<string, boolean>, check: (seen: string[]) => void): void {
    const read = new Map<string, string[]>();
    for (const id of chunksToRead(this.head, ops)) {
      const p = this.head.chunks.findIndex((c) => c.id === id);
      read.set(id, clipToRange(this.head, p, this.chunks.get(id) ?? []));
    }
    const old = this.head;
    const plan = planIndexEdit(this.head, read, ops, this.newId, this.now);
    for (const { id, ids } of plan.before) this.chunks.set(id, ids);
    check(this.visible());
    if (plan.head) this.head = plan.head;
    check(this.visible());
    check(this.visible(old));
    for (const id of plan.deletes) this.chunks.delete(id);
    check(this.visible());
  }
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const id = (n: number): string => `t${String(n).padStart(6, '0')}`;

describe('ordered index', () => {
  it('finds the chunk whose range holds an id', () => {
    const head: IndexHead = {
      chunks: [
        { id: 'a', lo: '' },
        { id: 'b', lo: 'm' },
        { id: 'c', lo: 't' },
      ],
    };
    expect(chunkPosition(head, 'a')).toBe(0);
    expect(chunkPosition(head, 'm')).toBe(1);
    expect(chunkPosition(head, 'sz')).toBe(1);
    expect(chunkPosition(head, 'z')).toBe(2);
    expect(clipToRange(head, 1, ['l', 'm', 'n', 't'])).toEqual(['m', 'n']);
    expect(firstAfter(['a', 'c', 'e'], 'c')).toBe(2);
    expect(firstAfter(['a', 'c', 'e'], 'b')).toBe(1);
  });

  it('plans nothing when the ops change nothing', () => {
    const plan = planIndexEdit(
      emptyHead('c0'),
      new Map([['c0', ['a']]]),
      new Map([
        ['a', true],
        ['b', false],
      ]),
      () => 'x',
      0,
    );
    expect(plan).toMatchObject({ before: [], head: null, deletes: [] });
  });

  it('splits big chunks and merges small ones, never hiding or doubling an id mid-edit', () => {
    const next = random(7);
    const store = new Store();
    const model = new Set<string>();
    let maxChunks = 0;
    const edit = (ops: Map<string, boolean>): void => {
      const untouched = [...model].filter((t) => !ops.has(t));
      store.edit(ops, (seen) => {
        for (let i = 1; i < seen.length; i++) {
          if (seen[i - 1]! >= seen[i]!) throw new Error(`out of order or twice: ${seen[i]}`);
        }
        const shown = new Set(seen);
        for (const t of untouched) if (!shown.has(t)) throw new Error(`${t} hidden mid-edit`);
      });
      for (const [t, present] of ops) {
        if (present) model.add(t);
        else model.delete(t);
      }
      expect(store.visible()).toEqual([...model].sort());
      maxChunks = Math.max(maxChunks, store.head.chunks.length);
      for (const [p, c] of store.head.chunks.entries()) {
        const held = clipToRange(store.head, p, store.chunks.get(c.id) ?? []).length;
        expect(held).toBeLessThanOrEqual(CHUNK_MAX_IDS);
      }
    };
    // Fill up, then churn, with batches of up to a few hundred ops, a second apart.
    for (let round = 0; round < 120; round++) {
      store.now += 1000;
      const ops = new Map<string, boolean>();
      const size = 1 + Math.floor(next() * 300);
      for (let i = 0; i < size; i++) ops.set(id(Math.floor(next() * 10_000)), next() < 0.8);
      edit(ops);
    }
    // Drain all but a few, in random batches.
    const rest = [...model].sort(() => next() - 0.5).slice(0, model.size - 50);
    for (let i = 0; i < rest.length; i += 250) {
      store.now += 1000;
      edit(new Map(rest.slice(i, i + 250).map((t) => [t, false])));
    }
    // A minute later the next edit deletes every retired chunk.
    store.now += RETIRED_GRACE_MS;
    edit(new Map([[id(99_999), true]]));
    expect(store.head.retired ?? []).toEqual([]);
    // It grew to many chunks, and draining merged them back down.
    expect(maxChunks).toBeGreaterThan(10);
    expect(store.head.chunks.length).toBeLessThanOrEqual(2);
    // Only the chunks in the head are stored: replaced ones were deleted once retired long enough.
    expect([...store.chunks.keys()].sort()).toEqual(store.head.chunks.map((c) => c.id).sort());
  });

  it('merges a chunk that fell below the minimum into the one before it', () => {
    const store = new Store();
    const all = new Map<string, boolean>();
    for (let i = 0; i < 600; i++) all.set(id(i), true);
    store.edit(all, () => undefined);
    // Split into parts of at most half the maximum: 3 × 200.
    expect(store.head.chunks).toHaveLength(3);
    const drop = new Map<string, boolean>();
    for (let i = 400; i < 600 - CHUNK_MIN_IDS / 2; i++) drop.set(id(i), false);
    store.edit(drop, () => undefined);
    expect(store.head.chunks).toHaveLength(2);
    expect(store.visible()).toHaveLength(400 + CHUNK_MIN_IDS / 2);
  });
});
