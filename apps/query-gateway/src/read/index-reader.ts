import {
  chunkPosition,
  clipToRange,
  firstIdAfter,
  type IndexChunk,
  type IndexHead,
} from '@cb/domain';
import type { LeanKv } from '@cb/nats';
import { notFound } from './context';

/** Where one partition's share of an index lives (see @cb/domain `ordered-index`). */
export interface IndexLocation {
  head: string;
  chunk(id: string): string;
}

/**
 * One partition's share of one index, read in id order strictly after `after`: the head, then the
 * chunk holding `after`, then the chunks after it as the reader moves on. Each chunk is clipped to
 * its range in the head it was found by, so a split in progress shows every id once.
 */
class IndexCursor {
  private head: IndexHead | null | undefined;
  private position = 0;
  private ids: readonly string[] = [];
  private at = 0;
  private loaded = false;

  constructor(
    private readonly kv: LeanKv,
    private readonly location: IndexLocation,
    private readonly after: string | undefined,
  ) {}

  /** The next id, or undefined at the end (reads what it needs). */
  async peek(): Promise<string | undefined> {
    for (;;) {
      if (this.at < this.ids.length) return this.ids[this.at];
      if (!(await this.advance())) return undefined;
    }
  }

  take(): void {
    this.at++;
  }

  /** Load the next chunk; false at the end of the index. */
  private async advance(): Promise<boolean> {
    if (this.head === undefined) {
      const entry = await this.kv.get(this.location.head).catch(notFound);
      const head = entry?.operation === 'PUT' ? entry.json<IndexHead>() : undefined;
      this.head = head && Array.isArray(head.chunks) && head.chunks.length > 0 ? head : null;
      if (this.head && this.after !== undefined)
        this.position = chunkPosition(this.head, this.after);
    } else if (this.loaded) {
      this.position++;
    }
    const head = this.head;
    if (head === null || this.position >= head.chunks.length) return false;
    const entry = await this.kv
      .get(this.location.chunk(head.chunks[this.position]!.id))
      .catch(notFound);
    const chunk = entry?.operation === 'PUT' ? entry.json<IndexChunk>() : undefined;
    this.ids = Array.isArray(chunk?.ids) ? clipToRange(head, this.position, chunk.ids) : [];
    this.at = this.after === undefined ? 0 : firstIdAfter(this.ids, this.after);
    this.loaded = true;
    return true;
  }
}

/**
 * Several indexes merged into one id order (a list spans every partition, and a search several
 * workflows): ids are unique per tenant, and one token is listed by at most one of them, so the
 * merge only has to drop an id listed twice by an index in the middle of a move.
 */
export class IndexMerge {
  private readonly cursors: IndexCursor[];
  private last: string | undefined;

  constructor(kv: LeanKv, locations: readonly IndexLocation[], after: string | undefined) {
    this.cursors = locations.map((l) => new IndexCursor(kv, l, after));
  }

  /** The next id in order, or undefined when every index is exhausted. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const heads = await Promise.all(this.cursors.map((c) => c.peek()));
      let min: string | undefined;
      let from = -1;
      heads.forEach((id, i) => {
        if (id !== undefined && (min === undefined || id < min)) {
          min = id;
          from = i;
        }
      });
      if (min === undefined) return undefined;
      this.cursors[from]!.take();
      if (min !== this.last) {
        this.last = min;
        return min;
      }
    }
  }

  /** Whether another id follows (reads ahead, consumes nothing). */
  async hasMore(): Promise<boolean> {
    const heads = await Promise.all(this.cursors.map((c) => c.peek()));
    return heads.some((id) => id !== undefined && id !== this.last);
  }
}
