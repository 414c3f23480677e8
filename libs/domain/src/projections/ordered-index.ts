/**
 * An ordered index of token ids, stored as small KV values: a head listing chunks by the lowest id
 * each may hold, and the chunks, each a sorted run of ids. One index is one partition's share of
 * one list (a place of a workflow, a whole workflow, a search-attribute value), so it has exactly
 * one writer, the partition's lease holder. A page reads the head and the chunk it starts in,
 * whatever the list's size; a write rewrites the chunks it touches, never the list.
 *
 * Readers clip every chunk to its range in the head ([lo, next chunk's lo)): a writer splitting a
 * chunk writes the new chunk, then the head, then the shortened chunk, so at every moment each id
 * is in exactly one chunk's range. Everything here is pure; the writer and the reader bring KV.
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
}

export interface IndexChunk {
  ids: string[];
}

/** A chunk is split in two above this many ids. */
export const CHUNK_MAX_IDS = 512;
/** A chunk below this many ids is merged into the one before it when both fit in one. */
export const CHUNK_MIN_IDS = 64;

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
 * The writes of one edit, in the order they must land: `before` (new chunks and chunks that only
 * grow or change within their range), then `head` (when its chunk list changed), then `after`
 * (chunks cut short by a split) and `deletes` (chunks merged away). Readers clip to the head they
 * read, so no id is ever missing or listed twice between the three.
 */
export interface IndexEditPlan {
  before: Array<{ id: string; ids: string[] }>;
  head: IndexHead | null;
  after: Array<{ id: string; ids: string[] }>;
  deletes: string[];
  /** Every chunk of the index after the edit that was read or written, with its ids. */
  chunks: Map<string, string[]>;
}

/**
 * Plan an edit. `chunks` holds (clipped) ids of at least `chunksToRead(head, ops)`; a chunk listed
 * in the head but missing there is empty. `newId` makes chunk ids. Nothing changes → every list
 * empty and `head` null.
 */
export function planIndexEdit(
  head: IndexHead,
  chunks: ReadonlyMap<string, readonly string[]>,
  ops: IndexOps,
  newId: () => string,
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
  const shortened = new Set<string>();
  const deletes: string[] = [];
  let headChanged = false;
  // Splits: each oversized chunk keeps its lower part, new chunks take the rest.
  for (let p = 0; p < refs.length; p++) {
    const ref = refs[p]!;
    const ids = content.get(ref.id);
    if (!ids || ids.length <= CHUNK_MAX_IDS) continue;
    const parts = Math.ceil(ids.length / (CHUNK_MAX_IDS / 2));
    const size = Math.ceil(ids.length / parts);
    const added: ChunkRef[] = [];
    for (let i = 1; i < parts; i++) {
      const part = ids.slice(i * size, (i + 1) * size);
      const id = newId();
      content.set(id, part);
      created.add(id);
      added.push({ id, lo: part[0]! });
    }
    content.set(ref.id, ids.slice(0, size));
    shortened.add(ref.id);
    refs.splice(p + 1, 0, ...added);
    p += added.length;
    headChanged = true;
  }
  // Merges: a small chunk (never the first) joins the one before when both fit in one.
  for (let p = refs.length - 1; p > 0; p--) {
    const ref = refs[p]!;
    if (!changed.has(ref.id) || created.has(ref.id)) continue;
    const ids = content.get(ref.id)!;
    if (ids.length >= CHUNK_MIN_IDS) continue;
    const prev = refs[p - 1]!;
    if (!content.has(prev.id) && !chunks.has(prev.id)) continue;
    const into = idsOf(prev.id);
    if (into.length + ids.length > CHUNK_MAX_IDS) continue;
    into.push(...ids);
    changed.add(prev.id);
    content.delete(ref.id);
    shortened.delete(ref.id);
    changed.delete(ref.id);
    refs.splice(p, 1);
    deletes.push(ref.id);
    headChanged = true;
  }

  const before: IndexEditPlan['before'] = [];
  const after: IndexEditPlan['after'] = [];
  for (const [id, ids] of content) {
    if (created.has(id)) before.push({ id, ids });
    else if (shortened.has(id)) after.push({ id, ids });
    else if (changed.has(id)) before.push({ id, ids });
  }
  return { before, head: headChanged ? { chunks: refs } : null, after, deletes, chunks: content };
}
