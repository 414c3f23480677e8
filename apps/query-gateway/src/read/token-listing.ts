import { decodeJson, type DeliveredMessage } from '@cb/nats';
import type { Token, TokenPage } from '@cb/schemas';
import { kvSubjectPrefix } from '@cb/subjects';
import { isPut, restriction, scanKeys, type AsOf, type ReadContext } from './context';
import { encodeCursor, parseCursor } from './cursor';
import { ListSnapshots, firstAfter, type ListSnapshot, type SnapshotEntry } from './list-snapshots';

export interface TokenQuery {
  /** The tenant whose tokens are listed: nothing of another tenant is ever read. */
  tenant: string;
  workflowId?: string;
  /** Only tokens of these workflows (a key restricted to some workflows); absent: all. */
  visible?: ReadonlySet<string> | undefined;
  place?: string;
  /** Scalar metadata values to match, compared as text (own keys of the token's metadata only). */
  metadata?: ReadonlyMap<string, string>;
  limit: number;
  cursor?: string;
  /** Start strictly after this token id (for callers inside the gateway; else `cursor`). */
  after?: string;
  minSeq?: number;
}

/** Token listings: key-range scans of the place index, with snapshots serving the next pages. */
export class TokenListing {
  private readonly snapshots: ListSnapshots;

  constructor(private readonly ctx: ReadContext) {
    this.snapshots = new ListSnapshots({
      ttlMs: ctx.options.listSnapshotTtlMs,
      maxBytes: ctx.options.listSnapshotMaxBytes,
    });
  }

  /**
   * A page of tokens ordered by id: one key-range scan of the place index (a workflow's, one
   * place's, or every workflow's), so each token that stays is listed exactly once across pages
   * however others move. The rest of the listing is kept as a snapshot for a short time, so the
   * following pages come from memory instead of scanning the index again; a page from a snapshot
   * is as of the snapshot, and one that asks for a later `minSeq` than it covers gets a scan.
   */
  async tokens(query: TokenQuery): Promise<AsOf<TokenPage>> {
    // The tenant is part of the list: a cursor (and its snapshot) serves only the tenant's list.
    const listName = `tokens:${query.tenant}${restriction(query.visible)}:${query.workflowId ?? '*'}:${query.place ?? '*'}`;
    const cursor =
      query.after !== undefined
        ? { after: query.after }
        : parseCursor(listName, query.cursor, 'id');
    const wanted = [...(query.metadata ?? [])].sort(([a], [b]) => (a < b ? -1 : 1));
    // A snapshot holds the items that matched the filter: it answers only the same filter.
    const snapshotList = `${listName}:${JSON.stringify(wanted)}`;
    const minSeq = query.minSeq ?? 0;
    if (cursor?.snapshot !== undefined) {
      const snapshot = this.snapshots.get(cursor.snapshot, snapshotList);
      if (
        snapshot &&
        (minSeq <= snapshot.asOf ||
          (await this.ctx.freshness.partitionsCovered(minSeq, snapshot.marks, query)))
      ) {
        return this.pageFromSnapshot(listName, snapshot, cursor.after, query.limit, minSeq);
      }
    }
    const after = cursor?.after;
    const bucket = this.ctx.view.kv('places').bucket;
    const prefix = kvSubjectPrefix(bucket);
    const filter = `${prefix}${this.ctx.naming.placesKeyFilter(query.tenant, query.workflowId, query.place)}`;
    const progress = this.ctx.freshness.newProgress();
    await this.ctx.freshness.waitCovered(query.minSeq, (marks) =>
      this.ctx.freshness.partitionsCovered(minSeq, marks, query, progress),
    );
    // Watermarks from before the scan: everything at or below their lowest is in it.
    const marks = this.ctx.view.snapshot();
    const messages = await scanKeys(this.ctx, bucket, filter);
    // A token moving between places is briefly in both: keep its newest entry.
    const newest = new Map<string, DeliveredMessage>();
    const visible = query.visible;
    for (const m of messages) {
      const tokenId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
      if (after !== undefined && tokenId <= after) continue;
      // The key: `<tenant>.<workflow>.<place>.<token>`
      if (visible !== undefined && !visible.has(m.subject.slice(prefix.length).split('.')[1]!)) {
        continue;
      }
      const seen = newest.get(tokenId);
      if (!seen || seen.seq < m.seq) newest.set(tokenId, m);
    }
    const ids = [...newest.keys()].sort();
    const items: Token[] = [];
    const rest: SnapshotEntry[] = [];
    for (const id of ids) {
      const m = newest.get(id)!;
      if (!isPut(m)) continue;
      if (items.length < query.limit) {
        const token = decodeJson(m.data) as Token | undefined;
        if (token && matchesMetadata(token, wanted)) items.push(token);
      } else if (wanted.length === 0 || matches(m.data, wanted)) {
        // A copy: the received bytes are a view of the whole socket read they arrived in.
        rest.push({ id, data: m.data.slice() });
      }
    }
    const asOf = Math.max(this.ctx.freshness.lowestOf(marks), minSeq);
    const lastId = items.at(-1)?.id;
    if (rest.length === 0 || lastId === undefined) return { value: { items }, asOf };
    const snapshot = this.snapshots.put(snapshotList, rest, asOf, marks);
    return { value: { items, nextCursor: encodeCursor(listName, lastId, snapshot) }, asOf };
  }

  private pageFromSnapshot(
    listName: string,
    snapshot: ListSnapshot,
    after: string,
    limit: number,
    minSeq: number,
  ): AsOf<TokenPage> {
    const { entries } = snapshot;
    const items: Token[] = [];
    let i = firstAfter(entries, after);
    for (; i < entries.length && items.length < limit; i++) {
      const token = decodeJson(entries[i]!.data) as Token | undefined;
      if (token) items.push(token);
    }
    const lastId = items.at(-1)?.id;
    return {
      value: {
        items,
        ...(i < entries.length && lastId !== undefined
          ? { nextCursor: encodeCursor(listName, lastId, snapshot.id) }
          : {}),
      },
      asOf: Math.max(snapshot.asOf, minSeq),
    };
  }
}

function matches(data: Uint8Array, wanted: Array<[string, string]>): boolean {
  const token = decodeJson(data) as Token | undefined;
  return token !== undefined && matchesMetadata(token, wanted);
}

/** Own keys only: `toString` or `__proto__` never match what every object inherits. */
function matchesMetadata(token: Token, wanted: Array<[string, string]>): boolean {
  const metadata = token.metadata as Record<string, unknown>;
  for (const [key, value] of wanted) {
    if (!Object.hasOwn(metadata, key)) return false;
    const actual = metadata[key];
    if (actual === undefined || actual === null || typeof actual === 'object') return false;
    if (String(actual) !== value) return false;
  }
  return true;
}
