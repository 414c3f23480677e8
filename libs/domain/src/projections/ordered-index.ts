/**
 * An ordered index of token ids, stored as small KV values: a head listing chunks by the lowest id
 * each may hold, and the chunks, each a sorted run of ids. One index is one partition's share of
 * one list (a place of a workflow, a whole workflow, a search-attribute value), so it has exactly
 * one writer, the partition's lease holder. A page reads the head and the chunk it starts in,
 * whatever the list's size; a write rewrites the chunks it touches, never the list.
 *
 * Structural changes are copy-on-write: a split or a merge writes new chunks, then the head that
 * lists them; the chunks it replaced are left as they were (retired, listed in the head with the
 * time) and deleted only a grace period later. So a reader holding the previous head still finds
 * every id in the chunks that head names, and a reader of the new head finds them in the new
 * ones: no id that stays is ever missing or listed twice, whichever head a page started from.
 * Readers clip every chunk to its range in the head ([lo, next chunk's lo)). Everything here is
 * pure; the writer and the reader bring KV.
 */

/** What one head says about one chunk. */
export interface ChunkRef {
  /** The chunk's key suffix (random, never reused: a crashed writer's orphan is never read). */
  id: string;
  /** The lowest id the chunk may hold; '' for the first chunk. */
  lo: string;
}

export interface IndexHead {
  /** Ordered by `lo`; the first has `lo: ''`. */
  chunks: ChunkRef[];
  /** Chunks replaced by a split or a merge, with when (ms): deleted after RETIRED_GRACE_MS. */
  retired?: Array<{ id: string; at: number }>;
}

export interface IndexChunk {
  ids: string[];
}

/** A chunk is split in two above this many ids. */
export const CHUNK_MAX_IDS = 512;
/** A chunk below this many ids is merged into the one before it when both fit in one. */
export const CHUNK_MIN_IDS = 64;
/** How long a replaced chunk is kept for readers of an older head (longer than any page). */
export const RETIRED_GRACE_MS = 60_000;

export function emptyHead(firstChunk: string): IndexHead {
  return { chunks: [{ id: firstChunk, lo: '' }] };
}

/** Position in `head.chunks` of the chunk whose range holds `id`. */
export function chunkPosition(head: IndexHead, id: string): number {
  let lo = 0;
  let hi = head.chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (head.chunks[mid]!.lo <= id) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The ids of the chunk at `position` that lie in its range (a crash may have left others). */
export function clipToRange(head: IndexHead, position: number, ids: readonly string[]): string[] {
  const lo = head.chunks[position]!.lo;
  const hi = head.chunks[position + 1]?.lo;
  return ids.filter((id) => id >= lo && (hi === undefined || id < hi));
}

/** Index of the first id after `after` in sorted `ids`. */
export function firstAfter(ids: readonly string[], after: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Desired membership per token id: true present, false absent. */
export type IndexOps = ReadonlyMap<string, boolean>;

/**
 * The chunks an edit reads: those the ops fall in, and the one before each that loses ids (it may
 * absorb it).
 */
export function chunksToRead(head: IndexHead, ops: IndexOps): Set<string> {
  const out = new Set<string>();
  for (const [id, present] of ops) {
    const p = chunkPosition(head, id);
    out.add(head.chunks[p]!.id);
    if (!present && p > 0) out.add(head.chunks[p - 1]!.id);
  }
  return out;
}

/**
 * The writes of one edit, in the order they must land: `before` (new chunks, and chunks edited
 * within their range), then `head` (when its chunk list changed), then `deletes` (chunks retired
 * more than RETIRED_GRACE_MS ago, now off the head).
 */
export interface IndexEditPlan {
  before: Array<{ id: string; ids: string[] }>;
  head: IndexHead | null;
  deletes: string[];
}

/**
 * Plan an edit. `chunks` holds (clipped) ids of at least `chunksToRead(head, ops)`; a chunk listed
 * in the head but missing there is empty. `newId` makes chunk ids; `now` stamps retirements.
 * Nothing changes → every list empty and `head` null.
 */
export function planIndexEdit(
  head: IndexHead,
  chunks: ReadonlyMap<string, readonly string[]>,
  ops: IndexOps,
  newId: () => string,
  now: number,
): IndexEditPlan {
  const refs = head.chunks.map((c) => ({ ...c }));
  const content = new Map<string, string[]>();
  const changed = new Set<string>();
  const idsOf = (chunk: string): string[] => {
    let ids = content.get(chunk);
    if (!ids) {
      ids = [...(chunks.get(chunk) ?? [])];
      content.set(chunk, ids);
    }
    return ids;
  };
  for (const [id, present] of ops) {
    const chunk = refs[chunkPosition({ chunks: refs }, id)]!.id;
    const ids = idsOf(chunk);
    const at = firstAfter(ids, id);
    const has = at > 0 && ids[at - 1] === id;
    if (present && !has) ids.splice(at, 0, id);
    else if (!present && has) ids.splice(at - 1, 1);
    else continue;
    changed.add(chunk);
  }

  const created = new Set<string>();
  const retired: string[] = [];
  // Splits: an oversized chunk is replaced by new ones of at most half the maximum each.
  for (let p = 0; p < refs.length; p++) {
    const ref = refs[p]!;
    const ids = content.get(ref.id);
    if (!ids || ids.length <= CHUNK_MAX_IDS) continue;
    const parts = Math.ceil(ids.length / (CHUNK_MAX_IDS / 2));
    const size = Math.ceil(ids.length / parts);
    const replacement: ChunkRef[] = [];
    for (let i = 0; i < parts; i++) {
      const part = ids.slice(i * size, (i + 1) * size);
      const id = newId();
      content.set(id, part);
      created.add(id);
      replacement.push({ id, lo: i === 0 ? ref.lo : part[0]! });
    }
    retire(ref.id);
    refs.splice(p, 1, ...replacement);
    p += replacement.length - 1;
  }
  // Merges: a small chunk (never the first) and the one before it are replaced by one new chunk
  // when both fit in it.
  for (let p = refs.length - 1; p > 0; p--) {
    const ref = refs[p]!;
    // A chunk this edit shrank, or made by a merge just now (so empties merge all the way down).
    if (!changed.has(ref.id) && !created.has(ref.id)) continue;
    const ids = content.get(ref.id)!;
    if (ids.length >= CHUNK_MIN_IDS) continue;
    const prev = refs[p - 1]!;
    if (!content.has(prev.id) && !chunks.has(prev.id)) continue;
    const into = idsOf(prev.id);
    if (into.length + ids.length > CHUNK_MAX_IDS) continue;
    const id = newId();
    content.set(id, [...into, ...ids]);
    created.add(id);
    for (const old of [prev.id, ref.id]) {
      if (!created.delete(old)) retire(old);
      content.delete(old);
    }
    refs.splice(p - 1, 2, { id, lo: prev.lo });
  }

  function retire(id: string): void {
    content.delete(id);
    changed.delete(id);
    retired.push(id);
  }

  const before: IndexEditPlan['before'] = [];
  for (const [id, ids] of content) {
    if (created.has(id) || changed.has(id)) before.push({ id, ids });
  }
  const kept = (head.retired ?? []).filter((r) => now - r.at < RETIRED_GRACE_MS);
  const deletes = (head.retired ?? [])
    .filter((r) => now - r.at >= RETIRED_GRACE_MS)
    .map((r) => r.id);
  const structural = retired.length > 0 || deletes.length > 0;
  if (!structural) return { before, head: null, deletes: [] };
  const nextRetired = [...kept, ...retired.map((id) => ({ id, at: now }))];
  return {
    before,
    head: { chunks: refs, ...(nextRetired.length > 0 ? { retired: nextRetired } : {}) },
    deletes,
  };
}
