import { TimerHeap, type Scheduled } from './timer-heap';

const item = (atMs: number, dueMs = atMs, key = `k${atMs}`): Scheduled => ({
  atMs,
  dueMs,
  key,
  transition: 't',
  armedBy: 1,
  dueAt: new Date(dueMs).toISOString(),
});

describe('TimerHeap', () => {
  it('given timers pushed in any order, then it pops them by time, ties by due time', () => {
    const heap = new TimerHeap();
    const times = [50, 10, 40, 10, 30, 20, 0, 60, 5];
    times.forEach((t, i) => heap.push(item(t, t === 10 ? 100 - i : t, `k${i}`)));
    const popped: Array<[number, number]> = [];
    for (let s = heap.pop(); s; s = heap.pop()) popped.push([s.atMs, s.dueMs]);
    expect(popped).toEqual([
      [0, 0],
      [5, 5],
      [10, 97],
      [10, 99],
      [20, 20],
      [30, 30],
      [40, 40],
      [50, 50],
      [60, 60],
    ]);
    expect(heap.size).toBe(0);
  });

  it('given 10,000 random timers, then each pop is the smallest left', () => {
    const heap = new TimerHeap();
    let seed = 7;
    const rand = (): number => (seed = (seed * 16807) % 2147483647);
    for (let i = 0; i < 10_000; i++) heap.push(item(rand() % 100_000));
    let last = -1;
    for (let s = heap.pop(); s; s = heap.pop()) {
      expect(s.atMs).toBeGreaterThanOrEqual(last);
      last = s.atMs;
    }
  });
});
