import { attributeText } from '@cb/domain';
import type { KvEntry } from '@cb/nats';
import type { Token, TokenDoc, TokenPage, WorkflowResource } from '@cb/schemas';
import type { TokenIndex } from '@cb/subjects';
import { notFound, restriction, type AsOf, type ReadContext } from './context';
import { encodeCursor, parseCursor } from './cursor';
import type { IndexLocation } from './index-reader';
import { IndexMerge } from './index-reader';
import type { WorkflowReads } from './workflow-reads';

export interface TokenQuery {
  /** The tenant whose tokens are listed: nothing of another tenant is ever read. */
  tenant: string;
  workflowId?: string;
  /** Only tokens of these workflows (a key restricted to some workflows); absent: all. */
  visible?: ReadonlySet<string> | undefined;
  place?: string;
  /** Scalar metadata values to match, compared as text (own keys of the token's metadata only). */
  metadata?: ReadonlyMap<string, string>;
  /** Scalar data values to match, the same way. */
  data?: ReadonlyMap<string, string>;
  limit: number;
  cursor?: string;
  /** Start strictly after this token id (for callers inside the gateway; else `cursor`). */
  after?: string;
  minSeq?: number;
}

/** A page, and for callers inside the gateway the last id it examined when more may follow. */
export interface TokenListingPage extends AsOf<TokenPage> {
  resumeAfter?: string;
}

/**
 * Tokens one page examines at most when a filter rejects most of them (a filter on a field no
 * search attribute indexes): the page then holds fewer than `limit` items, and its `nextCursor`
 * goes on from where it stopped.
 */
export const MAX_EXAMINED_PER_PAGE = 2000;
/** Documents read at once while filling a page. */
const MAX_WAVE = 256;

/** One index to read: which workflow's, and the filter its documents must pass. */
interface Source {
  workflowId: string;
  index: TokenIndex;
}

/**
 * Token listings from the ordered indexes the projection keeps (see @cb/domain `ordered-index`):
 * a page reads each partition's head and the chunk its cursor falls in, then the documents of the
 * ids it lists, so it costs the same at 100 tokens and at a million. Lists are ordered by id and
 * continue strictly after the cursor's id, so a token that stays is listed exactly once however
 * the others move; each listed token is checked against its document (its workflow, its place,
 * the filters), so a token is never shown in a place it has left. A token moving between places
 * is in neither list for the moment between the index writes and its document's.
 */
export class TokenListing {
  /** Per tenant: the latest definitions and the definitions watermark they were listed at. */
  private readonly tenantWorkflows = new Map<
    string,
    { mark: number; workflows: WorkflowResource[] }
  >();
  /** Per workflow and latest version: the search attributes every version declares. */
  private readonly declared = new Map<string, ReadonlySet<string>>();

  constructor(
    private readonly ctx: ReadContext,
    private readonly definitions: WorkflowReads,
  ) {}

  async tokens(query: TokenQuery): Promise<TokenListingPage> {
    const listName = `tokens:${query.tenant}${restriction(query.visible)}:${query.workflowId ?? '*'}:${query.place ?? '*'}`;
    const filters = filtersOf(query);
    // A cursor serves the list and the filters it was made for.
    const cursorList = filters.length === 0 ? listName : `${listName}:${JSON.stringify(filters)}`;
    const after =
      query.after !== undefined ? query.after : parseCursor(cursorList, query.cursor, 'id')?.after;
    const minSeq = query.minSeq ?? 0;
    const { freshness } = this.ctx;
    const progress = freshness.newProgress();
    await freshness.waitCovered(query.minSeq, async (marks) => {
      // Without a workflow the list of workflows matters too: their definitions must be in.
      if (query.workflowId === undefined && !(await freshness.definitionsCovered(minSeq, marks))) {
        return false;
      }
      return freshness.partitionsCovered(minSeq, marks, query, progress);
    });
    // Watermarks from before the reads: everything at or below their lowest is in them.
    const marks = this.ctx.view.snapshot();
    const asOf = Math.max(freshness.lowestOf(marks), minSeq);
    if (!(await this.ctx.view.hasBucket('places'))) return { value: { items: [] }, asOf };

    const sources = await this.sources(query, filters);
    const locations: IndexLocation[] = [];
    for (const s of sources) {
      for (let p = 0; p < this.ctx.naming.partitions; p++) {
        locations.push(this.location(query.tenant, s, p));
      }
    }
    const merge = new IndexMerge(this.ctx.view.kv('places'), locations, after);
    const tokens = this.ctx.view.kv('tokens');
    const items: Token[] = [];
    let examined = 0;
    let last: string | undefined;
    /** Ids read from the indexes but not examined (the page filled up first). */
    let unexamined = 0;
    let exhausted = false;
    let wave = query.limit;
    while (!exhausted && items.length < query.limit && examined < MAX_EXAMINED_PER_PAGE) {
      const ids: string[] = [];
      const want = Math.min(wave, MAX_EXAMINED_PER_PAGE - examined);
      while (ids.length < want) {
        const id = await merge.next();
        if (id === undefined) {
          exhausted = true;
          break;
        }
        ids.push(id);
      }
      const entries = await Promise.all(
        ids.map((id) => tokens.get(this.ctx.naming.tokenKey(query.tenant, id)).catch(notFound)),
      );
      let i = 0;
      for (; i < ids.length && items.length < query.limit; i++) {
        examined++;
        last = ids[i];
        const token = listed(entries[i] ?? null, query, filters);
        if (token) items.push(token);
      }
      unexamined = ids.length - i;
      wave = Math.min(MAX_WAVE, wave * 2);
    }
    const more = unexamined > 0 || (!exhausted && (await merge.hasMore()));
    if (!more || last === undefined) return { value: { items }, asOf };
    return {
      value: { items, nextCursor: encodeCursor(cursorList, last) },
      asOf,
      resumeAfter: last,
    };
  }

  /**
   * The indexes a query reads: per workflow (the one asked for, or every visible one of the
   * tenant), a search attribute's index when a filter is on one that every version of the
   * workflow declares, else the place's, else the workflow's whole list.
   */
  private async sources(query: TokenQuery, filters: Filter[]): Promise<Source[]> {
    const definitions =
      query.workflowId !== undefined
        ? [await this.definitions.workflow(query.tenant, query.workflowId).catch(() => null)]
        : await this.tenantDefinitions(query.tenant);
    const visible = query.visible;
    const out: Source[] = [];
    for (const definition of definitions) {
      if (definition === null) continue;
      const workflowId = definition.id;
      if (visible !== undefined && !visible.has(workflowId)) continue;
      if (query.place !== undefined && !definition.places.includes(query.place)) continue;
      const declared = await this.declaredAttributes(query.tenant, definition);
      const indexed = filters.find((f) => declared.has(f.attribute));
      out.push({
        workflowId,
        index: indexed
          ? { kind: 'attribute', attribute: indexed.attribute, value: indexed.value }
          : query.place !== undefined
            ? { kind: 'place', place: query.place }
            : { kind: 'workflow' },
      });
    }
    return out;
  }

  private location(tenant: string, source: Source, partition: number): IndexLocation {
    const { naming } = this.ctx;
    return {
      head: naming.indexHeadKey(tenant, source.workflowId, source.index, partition),
      chunk: (id) => naming.indexChunkKey(tenant, source.workflowId, source.index, partition, id),
    };
  }

  /**
   * The tenant's latest definitions, listed again whenever the definitions' watermark moves (a
   * search over every workflow then costs no read per workflow).
   */
  private async tenantDefinitions(tenant: string): Promise<WorkflowResource[]> {
    const mark = this.ctx.view.watermark('definitions');
    const known = this.tenantWorkflows.get(tenant);
    if (known && known.mark === mark && mark > 0) return known.workflows;
    const workflows: WorkflowResource[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.definitions.workflows(tenant, 500, cursor);
      workflows.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    if (this.tenantWorkflows.size > 10_000) this.tenantWorkflows.clear();
    this.tenantWorkflows.set(tenant, { mark, workflows });
    return workflows;
  }

  /**
   * The search attributes every version of a workflow declares: a token is indexed by its own
   * version's, so an attribute only some versions declare does not index every token.
   */
  private async declaredAttributes(
    tenant: string,
    latest: WorkflowResource,
  ): Promise<ReadonlySet<string>> {
    const key = `${tenant}.${latest.id}.${latest.version}`;
    const known = this.declared.get(key);
    if (known) return known;
    let common = new Set(latest.searchAttributes ?? []);
    for (let v = latest.version - 1; v >= 1 && common.size > 0; v--) {
      const older = await this.definitions.workflow(tenant, latest.id, v).catch(() => null);
      const attrs = new Set(older?.searchAttributes ?? []);
      common = new Set([...common].filter((a) => attrs.has(a)));
    }
    if (this.declared.size > 10_000) this.declared.clear();
    this.declared.set(key, common);
    return common;
  }
}

/** One `metadata.<key>` / `data.<key>` filter: the attribute and the text it must have. */
interface Filter {
  attribute: string;
  value: string;
}

function filtersOf(query: TokenQuery): Filter[] {
  const out: Filter[] = [];
  for (const [key, value] of query.metadata ?? [])
    out.push({ attribute: `metadata.${key}`, value });
  for (const [key, value] of query.data ?? []) out.push({ attribute: `data.${key}`, value });
  return out.sort((a, b) => (a.attribute < b.attribute ? -1 : a.attribute > b.attribute ? 1 : 0));
}

/** The token a listed id stands for, if its document is live and matches the query. */
function listed(entry: KvEntry | null, query: TokenQuery, filters: Filter[]): Token | undefined {
  if (entry?.operation !== 'PUT') return undefined;
  const doc = entry.json<TokenDoc>();
  if (!doc || doc.deleted === true) return undefined;
  if (query.workflowId !== undefined && doc.workflowId !== query.workflowId) return undefined;
  if (query.visible !== undefined && !query.visible.has(doc.workflowId)) return undefined;
  if (query.place !== undefined && doc.place !== query.place) return undefined;
  for (const f of filters) if (attributeText(doc, f.attribute) !== f.value) return undefined;
  return doc;
}

/** How token list pages behave, for the OpenAPI description of the routes that serve them. */
export const LIST_PAGES =
  'Pages come from ordered indexes the projection keeps (per place, per workflow and per declared ' +
  'search attribute), so a page costs the same however many tokens the list holds. Each page ' +
  'continues strictly after the cursor, so a token that stays in the list is served exactly ' +
  'once. A filter on a field the workflow does not declare in `searchAttributes` is checked ' +
  `token by token: a page examines at most ${MAX_EXAMINED_PER_PAGE} tokens and may then hold ` +
  'fewer than `limit` items (even none) with a `nextCursor` to go on; the list ends when a page ' +
  'has no `nextCursor`.';
