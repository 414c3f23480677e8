import type { NatsConnection } from '@nats-io/transport-node';
import {
  availabilityGuardRequests,
  availableTransitions,
  CompiledWorkflowCache,
  sumStats,
  type CompiledWorkflow,
} from '@cb/domain';
import { GuardPoolError, definitionKeyOf, type GuardPool } from '@cb/guard-pool';
import {
  classifyNatsError,
  decodeEvent,
  decodeJson,
  isDefinitionEvent,
  kvOperation,
  lastValidEvent,
  validEventsOn,
  scanStream,
  type EventStore,
  type DeliveredMessage,
  type RequestMux,
} from '@cb/nats';
import { Token as TokenSchema } from '@cb/schemas';
import type {
  HistoryPage,
  PartitionStats,
  SequencedEvent,
  StatsResponse,
  Token,
  TokenDoc,
  TokenPage,
  TransitionAvailability,
  WorkflowDefined,
  WorkflowPage,
  WorkflowResource,
} from '@cb/schemas';
import {
  jsApiStreamInfo,
  kvStreamName,
  kvSubject,
  kvSubjectPrefix,
  type Naming,
} from '@cb/subjects';
import { ApiError } from '../api-error';
import type { StrongTokenReader } from '../token-reader';
import { decodeCursor, encodeCursor, parseCursor } from './cursor';
import { ListSnapshots, firstAfter, type ListSnapshot, type SnapshotEntry } from './list-snapshots';
import type { ReadView, Watermarks } from './read-view';

export interface ReadsOptions {
  /** How long a read with `minSeq` waits for the projections before 503 PROJECTION_LAGGING. */
  lagWaitMs: number;
  /** Bound on one key-range scan. */
  scanTimeoutMs: number;
  /** How long the rest of a token listing serves its next pages (0: every page scans). */
  listSnapshotTtlMs: number;
  /** Memory for those snapshots over all listings. */
  listSnapshotMaxBytes: number;
}

/** A read and the seq it is as of: every event with seq ≤ asOf is reflected in it. */
export interface AsOf<T> {
  value: T;
  asOf: number;
}

/** A token read, with the stored JSON when it is exactly the API token (sent as is, not re-serialised). */
export interface TokenRead extends AsOf<Token> {
  json?: Uint8Array;
}

/** A live token document has exactly the API token's members (a tombstone has more). */
const TOKEN_MEMBERS = Object.keys(TokenSchema.properties).length;

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

/**
 * What the checks of one wait for minSeq learnt, per partition of one read-model generation:
 * covered, or the seq of an unapplied event ≤ minSeq.
 */
interface PartitionProgress {
  generation: number;
  partitions: Map<number, number | 'covered'>;
}

const HOUR_MS = 3_600_000;
const RETRY_AFTER_SECONDS = 1;

/**
 * Every read of the API, from the KV read models (key-range scans for lists, never one request
 * per token), each within one tenant (every key and subject read starts with it), with
 * read-your-writes: `minSeq` waits until the relevant partitions' watermarks, or
 * the stream itself, prove every event with seq ≤ minSeq is reflected.
 */
export class Reads {
  private readonly compiled = new CompiledWorkflowCache();
  /** Highest stream seq known to exist. */
  private streamLastSeq = 0;
  private readonly snapshots: ListSnapshots;

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly store: EventStore,
    private readonly view: ReadView,
    private readonly strong: StrongTokenReader,
    private readonly guards: GuardPool,
    private readonly options: ReadsOptions,
  ) {
    this.snapshots = new ListSnapshots({
      ttlMs: options.listSnapshotTtlMs,
      maxBytes: options.listSnapshotMaxBytes,
    });
  }

  // ---- definitions ------------------------------------------------------------------------------

  /** The latest definition, or one version; falls back to the stream while the projection lags. */
  async workflow(
    tenant: string,
    workflowId: string,
    version?: number,
    minSeq?: number,
  ): Promise<WorkflowResource> {
    await this.waitCovered(minSeq, (marks) => this.definitionsCovered(minSeq ?? 0, marks));
    const resource = await this.readWorkflow(tenant, workflowId, version);
    if (resource === null) {
      throw new ApiError(
        'WORKFLOW_NOT_FOUND',
        version === undefined
          ? `workflow ${workflowId} does not exist`
          : `workflow ${workflowId} has no version ${version}`,
      );
    }
    return resource;
  }

  async workflows(
    tenant: string,
    limit: number,
    cursor?: string,
    minSeq?: number,
    visible?: ReadonlySet<string>,
  ): Promise<WorkflowPage> {
    const listName = `workflows:${tenant}${restriction(visible)}`;
    const after = decodeCursor(listName, cursor, 'id');
    const bucket = this.view.kv('workflows').bucket;
    // The tenant's latest definitions (`<tenant>.<id>`); keys are listed by workflow id.
    const prefix = kvSubject(bucket, `${tenant}.`);
    await this.waitCovered(minSeq, (marks) => this.definitionsCovered(minSeq ?? 0, marks));
    const messages = await this.scanKeys(
      bucket,
      kvSubject(bucket, this.naming.workflowsKeyFilter(tenant)),
    );
    const live = messages
      .filter((m) => isPut(m))
      .map((m) => ({ key: m.subject.slice(prefix.length), m }))
      .filter(({ key }) => after === undefined || key > after)
      .filter(({ key }) => visible === undefined || visible.has(key))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const page = live.slice(0, limit);
    const items = page
      .map(({ m }) => decodeJson(m.data) as WorkflowResource | undefined)
      .filter((w): w is WorkflowResource => w !== undefined);
    const last = page.at(-1);
    return {
      items,
      ...(live.length > limit && last ? { nextCursor: encodeCursor(listName, last.key) } : {}),
    };
  }

  // ---- tokens -----------------------------------------------------------------------------------

  /** One token from the read model (`workflowId` undefined: any workflow). */
  async token(
    tenant: string,
    workflowId: string | undefined,
    tokenId: string,
    minSeq?: number,
  ): Promise<TokenRead> {
    const p = this.naming.tokenPartition(tokenId);
    // The watermark from before the read: one that moved during it proves nothing about it.
    const markBefore = this.view.watermark(p);
    const read = await this.waitFresh(
      minSeq,
      () => this.readTokenDoc(tenant, tokenId),
      (d, marks) => this.tokenCovered(tenant, tokenId, d?.doc.version ?? 0, minSeq ?? 0, marks),
    );
    if (
      read === null ||
      read.doc.deleted ||
      (workflowId !== undefined && read.doc.workflowId !== workflowId)
    ) {
      throw new ApiError(
        'TOKEN_NOT_FOUND',
        workflowId === undefined
          ? `token ${tokenId} does not exist`
          : `token ${tokenId} does not exist in workflow ${workflowId}`,
      );
    }
    const { doc, bytes } = read;
    const asOf = Math.max(doc.version, markBefore, minSeq ?? 0);
    if (Object.keys(doc).length === TOKEN_MEMBERS) return { value: doc, asOf, json: bytes };
    const { deleted: _d, deletedAt: _a, ...token } = doc;
    return { value: token, asOf };
  }

  /** A token straight from the stream (one direct get). */
  async strongToken(tenant: string, workflowId: string, tokenId: string): Promise<Token> {
    const token = await this.strong.get(tenant, workflowId, tokenId);
    if (token === null) {
      throw new ApiError(
        'TOKEN_NOT_FOUND',
        `token ${tokenId} does not exist in workflow ${workflowId}`,
      );
    }
    return token;
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
        (minSeq <= snapshot.asOf || (await this.partitionsCovered(minSeq, snapshot.marks, query)))
      ) {
        return this.pageFromSnapshot(listName, snapshot, cursor.after, query.limit, minSeq);
      }
    }
    const after = cursor?.after;
    const bucket = this.view.kv('places').bucket;
    const prefix = kvSubjectPrefix(bucket);
    const filter = `${prefix}${this.naming.placesKeyFilter(query.tenant, query.workflowId, query.place)}`;
    const progress = this.newProgress();
    await this.waitCovered(query.minSeq, (marks) =>
      this.partitionsCovered(minSeq, marks, query, progress),
    );
    // Watermarks from before the scan: everything at or below their lowest is in it.
    const marks = this.view.snapshot();
    const messages = await this.scanKeys(bucket, filter);
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
    const asOf = Math.max(this.lowestOf(marks), minSeq);
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

  /** Every event of a token, in stream order, straight from the stream (paged by seq). */
  async history(
    tenant: string,
    workflowId: string,
    tokenId: string,
    limit: number,
    cursor?: string,
  ): Promise<HistoryPage> {
    const listName = `history:${tenant}:${workflowId}:${tokenId}`;
    const after = Number(decodeCursor(listName, cursor, 'seq') ?? 0);
    const { messages, truncated } = await scanStream(
      this.nc,
      this.mux,
      this.naming.stream,
      this.naming.tokenSubject(tenant, workflowId, tokenId),
      {
        start: after > 0 ? { deliver: 'by_start_sequence', seq: after + 1 } : { deliver: 'all' },
        maxMessages: limit,
        timeoutMs: this.options.scanTimeoutMs,
      },
    );
    if (messages.length === 0 && after === 0) {
      throw new ApiError(
        'TOKEN_NOT_FOUND',
        `token ${tokenId} has no history in workflow ${workflowId}`,
      );
    }
    const items: SequencedEvent[] = [];
    for (const m of messages) {
      const decoded = decodeEvent(m.data);
      // Garbage on a token subject (dead-lettered by the projections) is not part of its history.
      if (decoded.ok && decoded.event.type !== 'workflow.defined.v1') {
        items.push({ seq: m.seq, event: decoded.event });
      }
    }
    const last = messages.at(-1);
    return {
      items,
      ...(truncated && last ? { nextCursor: encodeCursor(listName, String(last.seq)) } : {}),
    };
  }

  /**
   * Each transition of the token's definition version: enabled, or every reason it is not. The
   * guards run in the guard pool, each within its time budget (a guard past it is reported as
   * GUARD_TOO_EXPENSIVE, the others still with their verdicts).
   */
  async transitions(
    tenant: string,
    workflowId: string,
    tokenId: string,
    options: { strong?: boolean; minSeq?: number },
  ): Promise<AsOf<TransitionAvailability[]>> {
    const read = options.strong
      ? { value: await this.strongToken(tenant, workflowId, tokenId), asOf: 0 }
      : await this.token(tenant, workflowId, tokenId, options.minSeq);
    const token = read.value;
    const compiled = await this.compiledWorkflow(tenant, workflowId, token.definitionVersion);
    const requests = availabilityGuardRequests(compiled, token);
    const verdicts = await this.guards
      .evaluate(
        compiled.definition,
        requests,
        definitionKeyOf(tenant, workflowId, token.definitionVersion),
      )
      .catch((err) => {
        if (!(err instanceof GuardPoolError)) throw err;
        throw new ApiError('SERVICE_UNAVAILABLE', `${err.message}`, { retryAfterSeconds: 1 });
      });
    return {
      value: availableTransitions(compiled, token, verdicts),
      asOf: options.strong ? token.version : read.asOf,
    };
  }

  // ---- stats --------------------------------------------------------------------------------------

  /** Partition stats summed; created/completed counted over [from, to) at hour resolution. */
  async stats(
    tenant: string,
    workflowId: string,
    window: { from?: string; to?: string },
    minSeq?: number,
  ): Promise<AsOf<StatsResponse>> {
    const definition = await this.workflow(tenant, workflowId);
    const to = window.to ? new Date(window.to) : new Date();
    const from = window.from ? new Date(window.from) : new Date(to.getTime() - 24 * HOUR_MS);
    if (!(from.getTime() < to.getTime())) {
      throw new ApiError('VALIDATION_ERROR', '`from` must be before `to`', {
        errors: [{ path: 'querystring/from', message: 'must be before to' }],
      });
    }
    const bucket = this.view.kv('stats').bucket;
    const progress = this.newProgress();
    await this.waitCovered(minSeq, (marks) =>
      this.partitionsCovered(minSeq ?? 0, marks, { tenant, workflowId }, progress),
    );
    const lowBefore = this.lowestWatermark();
    const messages = await this.scanKeys(
      bucket,
      kvSubject(bucket, this.naming.statsKeyFilter(tenant, workflowId)),
    );
    const parts = messages
      .filter(isPut)
      .map((m) => decodeJson(m.data) as PartitionStats | undefined)
      .filter((s): s is PartitionStats => s !== undefined);
    const summed = sumStats(workflowId, parts, definition.places);
    let created = 0;
    let completed = 0;
    for (const [hour, counts] of Object.entries(summed.hourly)) {
      const start = Date.parse(`${hour}:00:00.000Z`);
      // An hour counts when it overlaps the window.
      if (start + HOUR_MS > from.getTime() && start < to.getTime()) {
        created += counts.created;
        completed += counts.completed;
      }
    }
    return {
      value: {
        ...summed,
        window: { from: from.toISOString(), to: to.toISOString(), created, completed },
      },
      asOf: Math.max(lowBefore, minSeq ?? 0),
    };
  }

  // ---- freshness ----------------------------------------------------------------------------------

  /**
   * A point read: without `minSeq` read once. With it, return once `fresh` holds for what was
   * read (watermarks taken before the read), reading again on every watermark change.
   */
  private async waitFresh<T>(
    minSeq: number | undefined,
    read: () => Promise<T>,
    fresh: (value: T, marksBeforeRead: Watermarks) => Promise<boolean>,
  ): Promise<T> {
    if (minSeq === undefined || minSeq === 0) return read();
    let value: { read: T } | undefined;
    await this.until(minSeq, async () => {
      // Watermarks from before the read: one that moved during the read proves nothing about it.
      const marks = this.view.snapshot();
      value = { read: await read() };
      return fresh(value.read, marks);
    });
    return value!.read;
  }

  /**
   * Before a scan: wait until `covered` proves, from watermarks taken at the check, that every
   * event with seq ≤ minSeq is reflected. The caller then scans once: the scan starts after those
   * watermarks were taken, so it reflects at least what they prove. Nothing is scanned while
   * waiting.
   */
  private async waitCovered(
    minSeq: number | undefined,
    covered: (marks: Watermarks) => Promise<boolean>,
  ): Promise<void> {
    if (minSeq === undefined || minSeq === 0) return;
    await this.until(minSeq, () => covered(this.view.snapshot()));
  }

  /**
   * Returns once `check` holds. When it does not at once, a `minSeq` the stream has not reached
   * is refused at once (400 MIN_SEQ_AHEAD: nothing would ever reflect it); otherwise `check` runs
   * again on every watermark change (at least every 100 ms) until `lagWaitMs`, then 503
   * PROJECTION_LAGGING.
   */
  private async until(minSeq: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.options.lagWaitMs;
    if (await check()) return;
    await this.refuseAhead(minSeq);
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new ApiError(
          'PROJECTION_LAGGING',
          `the read model has not reached seq ${minSeq} within ${this.options.lagWaitMs} ms; retry shortly`,
          { minSeq, retryAfterSeconds: RETRY_AFTER_SECONDS },
        );
      }
      await this.view.changed(Math.min(left, 100));
      if (await check()) return;
    }
  }

  /** 400 MIN_SEQ_AHEAD unless the stream holds seq `minSeq` (asked of the server when unknown). */
  private async refuseAhead(minSeq: number): Promise<void> {
    if (await this.streamReached(minSeq)) return;
    throw new ApiError(
      'MIN_SEQ_AHEAD',
      `minSeq ${minSeq} is beyond the last event of the stream (seq ${this.streamLastSeq}): no write has that version yet`,
      { minSeq, lastSeq: this.streamLastSeq },
    );
  }

  /** Every event of the token with seq ≤ minSeq is reflected by a document at `docVersion`. */
  private async tokenCovered(
    tenant: string,
    tokenId: string,
    docVersion: number,
    minSeq: number,
    marks: Watermarks,
  ): Promise<boolean> {
    if (docVersion >= minSeq) return true;
    const mark = marks(this.naming.tokenPartition(tokenId));
    if (mark >= minSeq) return true;
    const next = await this.store.nextOnSubject(
      this.naming.tokenSubjectAnyWorkflow(tenant, tokenId),
      Math.max(docVersion, mark) + 1,
    );
    return next === null ? this.streamReached(minSeq) : next.seq > minSeq;
  }

  /**
   * Every token event with seq ≤ minSeq is applied, in every partition: of one workflow of the
   * tenant, or (no workflow) of every workflow and tenant — the cheaper check, never a wrong one.
   * `progress` carries what the checks of one wait learnt: a partition found covered stays covered
   * (every event ≤ minSeq exists already), and one holding an unapplied event ≤ minSeq is not
   * covered until its watermark passes that event. Either way NATS is not asked again, so a wait
   * costs requests only when watermarks move past what blocked it.
   */
  private async partitionsCovered(
    minSeq: number,
    marks: Watermarks,
    scope: { tenant: string; workflowId?: string | undefined },
    progress: PartitionProgress = this.newProgress(),
  ): Promise<boolean> {
    // Another generation's partitions prove nothing about this one's.
    if (progress.generation !== this.view.generation) {
      progress.generation = this.view.generation;
      progress.partitions.clear();
    }
    const known = progress.partitions;
    const open: number[] = [];
    for (let p = 0; p < this.naming.partitions; p++) {
      const mark = marks(p);
      const learnt = known.get(p);
      if (mark >= minSeq || learnt === 'covered') continue;
      if (learnt !== undefined && mark < learnt) return false;
      open.push(p);
    }
    const checks = open.map(async (p) => {
      const filter =
        scope.workflowId === undefined
          ? this.naming.partitionFilter(p)
          : this.naming.partitionWorkflowFilter(p, scope.tenant, scope.workflowId);
      const next = await this.store.nextOnSubject(filter, marks(p) + 1);
      if (next === null) {
        // Nothing unapplied in this partition: covered once the stream has minSeq at all.
        const reached = await this.streamReached(minSeq);
        if (reached) known.set(p, 'covered');
        return reached;
      }
      known.set(p, next.seq > minSeq ? 'covered' : next.seq);
      return next.seq > minSeq;
    });
    return (await Promise.all(checks)).every(Boolean);
  }

  private newProgress(): PartitionProgress {
    return { generation: this.view.generation, partitions: new Map() };
  }

  private async definitionsCovered(minSeq: number, marks: Watermarks): Promise<boolean> {
    const mark = marks('definitions');
    if (mark >= minSeq) return true;
    const next = await this.store.nextOnSubject(this.naming.allWorkflowsSubject, mark + 1);
    return next === null ? this.streamReached(minSeq) : next.seq > minSeq;
  }

  /**
   * Whether the stream holds seq `minSeq` at all: a seq not written yet is not reflected by
   * anything. A last seq seen before can prove it does; only the server (STREAM.INFO) can prove
   * it does not.
   */
  private async streamReached(minSeq: number): Promise<boolean> {
    if (this.streamLastSeq >= minSeq) return true;
    const reply = await this.mux.request(
      jsApiStreamInfo(this.naming.stream),
      new Uint8Array(0),
      5000,
    );
    const info = decodeJson(reply.data) as { state?: { last_seq?: unknown } } | undefined;
    const last = info?.state?.last_seq;
    if (typeof last !== 'number') {
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        'JetStream did not report the stream; retry shortly',
        {
          retryAfterSeconds: RETRY_AFTER_SECONDS,
        },
      );
    }
    this.streamLastSeq = Math.max(this.streamLastSeq, last);
    return this.streamLastSeq >= minSeq;
  }

  private lowestWatermark(): number {
    return this.lowestOf((p) => this.view.watermark(p));
  }

  private lowestOf(marks: Watermarks): number {
    let low = Number.POSITIVE_INFINITY;
    for (let p = 0; p < this.naming.partitions; p++) low = Math.min(low, marks(p));
    return Number.isFinite(low) ? low : 0;
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private async scanKeys(bucket: string, filter: string): Promise<DeliveredMessage[]> {
    try {
      const { messages } = await scanStream(this.nc, this.mux, kvStreamName(bucket), filter, {
        start: { deliver: 'last_per_subject' },
        timeoutMs: this.options.scanTimeoutMs,
      });
      return messages;
    } catch (err) {
      // No projection worker has created the buckets yet: nothing is projected.
      if ((err as { code?: string }).code === 'STREAM_NOT_FOUND') return [];
      throw err;
    }
  }

  private async readTokenDoc(
    tenant: string,
    tokenId: string,
  ): Promise<{ doc: TokenDoc; bytes: Uint8Array } | null> {
    if (!(await this.view.hasBucket('tokens'))) return null;
    const entry = await this.view
      .kv('tokens')
      .get(this.naming.tokenKey(tenant, tokenId))
      .catch(notFound);
    if (!entry || entry.operation !== 'PUT') return null;
    const doc = entry.json<TokenDoc>();
    return doc ? { doc, bytes: entry.value } : null;
  }

  private async readWorkflow(
    tenant: string,
    workflowId: string,
    version?: number,
  ): Promise<WorkflowResource | null> {
    const key =
      version === undefined
        ? this.naming.workflowKey(tenant, workflowId)
        : this.naming.workflowVersionKey(tenant, workflowId, version);
    const entry = (await this.view.hasBucket('workflows'))
      ? await this.view.kv('workflows').get(key).catch(notFound)
      : null;
    if (entry?.operation === 'PUT') {
      const value = entry.json<WorkflowResource>();
      if (value) return value;
    }
    // Not projected yet (or no worker runs): the stream has every definition.
    const subject = this.naming.workflowSubject(tenant, workflowId);
    if (version === undefined) {
      const { event, message } = await lastValidEvent(this.store, subject, isDefinitionEvent);
      return event === null || message === null ? null : resourceOf(event, message.seq);
    }
    for await (const { event, message } of validEventsOn(this.store, subject, isDefinitionEvent)) {
      if (event.definition.version === version) return resourceOf(event, message.seq);
    }
    return null;
  }

  private async compiledWorkflow(
    tenant: string,
    workflowId: string,
    version: number,
  ): Promise<CompiledWorkflow> {
    const hit = this.compiled.get(tenant, workflowId, version);
    if (hit) return hit;
    const {
      analysis: _a,
      seq: _s,
      ...definition
    } = await this.workflow(tenant, workflowId, version);
    return this.compiled.compile(tenant, definition);
  }
}

/**
 * A restricted key's lists are lists of their own: a cursor (and the snapshot behind it) of an
 * unrestricted listing never serves a restricted one.
 */
function restriction(visible: ReadonlySet<string> | undefined): string {
  return visible === undefined ? '' : `[${[...visible].sort().join(',')}]`;
}

function resourceOf(event: WorkflowDefined, seq: number): WorkflowResource {
  return { ...event.definition, analysis: event.analysis, seq };
}

function isPut(m: DeliveredMessage): boolean {
  return kvOperation(m.headers) === 'PUT';
}

/** A missing bucket (no projection worker created it yet) reads as a missing key. */
function notFound(err: unknown): null {
  const code = classifyNatsError(err).code;
  if (code === 'NO_RESPONDERS' || code === 'STREAM_NOT_FOUND') return null;
  throw err;
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
