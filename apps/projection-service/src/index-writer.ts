import { randomBytes } from 'node:crypto';
import {
  chunksToRead,
  clipToRange,
  emptyHead,
  planIndexEdit,
  type IndexChunk,
  type IndexHead,
  type IndexOps,
} from '@cb/domain';
import type { LeanKv } from '@cb/nats';

/** Where one index lives: its head key and its chunks' keys. */
export interface IndexAddress {
  head: string;
  chunk(id: string): string;
}

interface CachedHead {
  head: IndexHead;
  /** KV revision (0: the head does not exist yet). */
  revision: number;
}

interface CachedChunk {
  ids: string[];
  revision: number;
}

/** Chunks kept in memory at most (each ≤ 512 ids); over it the chunk cache starts again. */
const CHUNK_CACHE_LIMIT = 4000;

/**
 * Writes ordered token indexes (see @cb/domain `planIndexEdit`) for one partition, whose lease
 * holder is the only writer. Heads and chunks are cached with their revisions and written with
 * compare-and-set, so a stale writer (a previous owner's late write) fails instead of going back;
 * the caller then resets and applies the batch again — the edits are "present" / "absent" per id,
 * so applying them twice is applying them once. Each index's writes land in the order readers rely
 * on: new and edited chunks, then the head; chunks a split or a merge replaced are deleted only
 * once no reader can still hold a head that names them (a minute later, at a later edit).
 */
export class IndexWriter {
  private heads = new Map<string, CachedHead>();
  private chunks = new Map<string, CachedChunk>();

  constructor(
    private readonly kv: LeanKv,
    /** Throws when the lease no longer allows writing; checked before each wave of writes. */
    private readonly assertLease: () => void,
  ) {}

  reset(): void {
    this.heads = new Map();
    this.chunks = new Map();
  }

  /** Apply every index's edit (indexes in parallel); throws on a failed write. */
  async apply(edits: Iterable<{ at: IndexAddress; ops: IndexOps }>): Promise<void> {
    try {
      await Promise.all([...edits].map(({ at, ops }) => this.edit(at, ops)));
    } catch (err) {
      this.reset();
      throw err;
    }
    if (this.chunks.size > CHUNK_CACHE_LIMIT) this.chunks = new Map();
  }

  private async edit(at: IndexAddress, ops: IndexOps): Promise<void> {
    const current = this.heads.get(at.head) ?? (await this.loadHead(at));
    const { head } = current;
    const wanted = [...chunksToRead(head, ops)];
    await Promise.all(
      wanted
        .filter((id) => !this.chunks.has(at.chunk(id)))
        .map((id) => this.loadChunk(at, head, id)),
    );
    const read = new Map<string, string[]>();
    for (const id of wanted) read.set(id, this.chunks.get(at.chunk(id))!.ids);
    const plan = planIndexEdit(head, read, ops, newChunkId, Date.now());
    const writes = plan.before.length + (plan.head ? 1 : 0);
    if (writes === 0) return;
    // A new index's head is written with its first chunk.
    const nextHead = plan.head ?? (current.revision === 0 ? head : null);

    await this.putChunks(at, plan.before);
    if (nextHead) {
      this.assertLease();
      const revision = await this.kv.put(at.head, nextHead, current.revision);
      this.heads.set(at.head, { head: nextHead, revision });
    }
    if (plan.deletes.length > 0) {
      this.assertLease();
      // Retired chunks are never written again (their ids are never reused): no revision check.
      await Promise.all(
        plan.deletes.map(async (id) => {
          const key = at.chunk(id);
          await this.kv.delete(key);
          this.chunks.delete(key);
        }),
      );
    }
  }

  private async putChunks(
    at: IndexAddress,
    chunks: ReadonlyArray<{ id: string; ids: string[] }>,
  ): Promise<void> {
    if (chunks.length === 0) return;
    this.assertLease();
    await Promise.all(
      chunks.map(async ({ id, ids }) => {
        const key = at.chunk(id);
        const value: IndexChunk = { ids };
        const revision = await this.kv.put(key, value, this.chunks.get(key)?.revision ?? 0);
        this.chunks.set(key, { ids, revision });
      }),
    );
  }

  private async loadHead(at: IndexAddress): Promise<CachedHead> {
    const entry = await this.kv.get(at.head);
    const head = entry?.operation === 'PUT' ? entry.json<IndexHead>() : undefined;
    const loaded: CachedHead =
      head && Array.isArray(head.chunks) && head.chunks.length > 0
        ? { head, revision: entry!.revision }
        : { head: emptyHead(newChunkId()), revision: entry?.revision ?? 0 };
    this.heads.set(at.head, loaded);
    return loaded;
  }

  /** A chunk as stored, clipped to its range (a crash between a split's writes leaves extras). */
  private async loadChunk(at: IndexAddress, head: IndexHead, id: string): Promise<void> {
    const key = at.chunk(id);
    const entry = await this.kv.get(key);
    const chunk = entry?.operation === 'PUT' ? entry.json<IndexChunk>() : undefined;
    const position = head.chunks.findIndex((c) => c.id === id);
    const ids = Array.isArray(chunk?.ids) ? clipToRange(head, position, chunk.ids) : [];
    this.chunks.set(key, { ids, revision: entry?.revision ?? 0 });
  }
}

/** Random, so two writers (a stale one and the owner) never make the same chunk key. */
function newChunkId(): string {
  return randomBytes(6).toString('hex');
}
