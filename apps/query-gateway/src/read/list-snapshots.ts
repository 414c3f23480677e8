import { randomBytes } from 'node:crypto';
import type { Watermarks } from './read-view';

/** One listed item: its id (the order) and its stored JSON. */
export interface SnapshotEntry {
  id: string;
  data: Uint8Array;
}

export interface ListSnapshot {
  readonly id: string;
  /** The list and filter it answers (a cursor of another list never reaches it). */
  readonly list: string;
  /** Items after the first page, sorted by id. */
  readonly entries: readonly SnapshotEntry[];
  /** Every event with seq ≤ asOf is reflected. */
  readonly asOf: number;
  /** The partitions' watermarks before the scan (to tell whether it covers a later minSeq). */
  readonly marks: Watermarks;
  readonly expiresAt: number;
  readonly bytes: number;
}

export interface ListSnapshotsOptions {
  /** How long a snapshot serves the pages after the first (0: never kept). */
  ttlMs: number;
  /** Memory budget over all snapshots; one snapshot may take at most half of it. */
  maxBytes: number;
  now?: () => number;
}

/** Per-entry bookkeeping beyond the stored bytes (object, array slot, id string). */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * The rest of a listing after its first page, kept for a short time so the following pages are
 * served from memory instead of a scan of the whole index each. A page served from a snapshot is
 * as of the snapshot (its `asOf` says so); when the snapshot is gone (expired, evicted, or held by
 * another gateway instance) the cursor still works: the page comes from a fresh scan after the
 * cursor's id, so every item that stays is served exactly once either way.
 */
export class ListSnapshots {
  private readonly snapshots = new Map<string, ListSnapshot>();
  private total = 0;
  private readonly now: () => number;

  constructor(private readonly options: ListSnapshotsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.snapshots.size;
  }

  /** Keep the entries (sorted by id); the snapshot's id, or undefined when it is not kept. */
  put(
    list: string,
    entries: readonly SnapshotEntry[],
    asOf: number,
    marks: Watermarks,
  ): string | undefined {
    if (this.options.ttlMs <= 0 || entries.length === 0) return undefined;
    let bytes = 0;
    for (const e of entries) bytes += e.data.byteLength + 2 * e.id.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.options.maxBytes / 2) return undefined;
    this.evict(bytes);
    const id = randomBytes(9).toString('base64url');
    const expiresAt = this.now() + this.options.ttlMs;
    this.snapshots.set(id, { id, list, entries, asOf, marks, expiresAt, bytes });
    this.total += bytes;
    return id;
  }

  /** The live snapshot `id` of this list, if this instance still holds it. */
  get(id: string, list: string): ListSnapshot | undefined {
    const snapshot = this.snapshots.get(id);
    if (snapshot === undefined) return undefined;
    if (snapshot.expiresAt <= this.now()) {
      this.remove(snapshot);
      return undefined;
    }
    return snapshot.list === list ? snapshot : undefined;
  }

  /** Drop expired snapshots, then the oldest until `incoming` more bytes fit the budget. */
  private evict(incoming: number): void {
    const now = this.now();
    for (const snapshot of this.snapshots.values()) {
      if (snapshot.expiresAt <= now) this.remove(snapshot);
    }
    for (const snapshot of this.snapshots.values()) {
      if (this.total + incoming <= this.options.maxBytes) break;
      this.remove(snapshot);
    }
  }

  private remove(snapshot: ListSnapshot): void {
    if (this.snapshots.delete(snapshot.id)) this.total -= snapshot.bytes;
  }
}

/** Index of the first entry whose id sorts after `after` (entries sorted by id). */
export function firstAfter(entries: readonly SnapshotEntry[], after: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.id <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How token list pages behave, for the OpenAPI description of the routes that serve them. */
export const LIST_PAGES =
  'The first page scans the place index; the rest of the listing is kept for a few seconds ' +
  '(LIST_SNAPSHOT_TTL_MS) and serves the following pages, which are then as of the first page ' +
  '(X-As-Of-Seq). A `minSeq` later than that, or a cursor whose snapshot is gone (expired, or ' +
  'from another gateway instance), gets a fresh scan after the cursor: either way each token ' +
  'that stays in the listing is served exactly once.';
