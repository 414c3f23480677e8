/** A scheduled attempt: `atMs` orders the heap (due time, or a retry's time). */
export interface Scheduled {
  readonly atMs: number;
  /** The timer's due time: ties fire in due order, and lateness is measured from it. */
  readonly dueMs: number;
  readonly key: string;
  readonly transition: string;
  readonly armedBy: number;
  readonly dueAt: string;
}

/**
 * A binary min-heap on `atMs` (then `dueMs`): the scheduler only ever looks at its top, so
 * pending timers cost nothing until one is due. Cancelled timers stay in until they surface and
 * are dropped then (the caller checks each against the token's current timers).
 */
export class TimerHeap {
  private readonly items: Scheduled[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Scheduled | undefined {
    return this.items[0];
  }

  push(item: Scheduled): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Scheduled | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) break;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
    return top;
  }
}

function before(a: Scheduled, b: Scheduled): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.dueMs < b.dueMs);
}
