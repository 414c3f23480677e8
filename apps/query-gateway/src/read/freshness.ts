import { decodeJson, type EventStore, type RequestMux } from '@cb/nats';
import { jsApiStreamInfo, type Naming } from '@cb/subjects';
import { ApiError } from '../api-error';
import type { ReadView, Watermarks } from './read-view';

/**
 * What the checks of one wait for minSeq learnt, per partition of one read-model generation:
 * covered, or the seq of an unapplied event ≤ minSeq.
 */
export interface PartitionProgress {
  generation: number;
  partitions: Map<number, number | 'covered'>;
}

const RETRY_AFTER_SECONDS = 1;

/**
 * Read-your-writes: a read with `minSeq` waits until the relevant partitions' watermarks, or the
 * stream itself, prove every event with seq ≤ minSeq is reflected (503 PROJECTION_LAGGING after
 * `lagWaitMs`; 400 MIN_SEQ_AHEAD for a seq the stream has not reached).
 */
export class Freshness {
  /** Highest stream seq known to exist. */
  private streamLastSeq = 0;

  constructor(
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly store: EventStore,
    private readonly view: ReadView,
    private readonly options: { lagWaitMs: number },
  ) {}

  /**
   * A point read: without `minSeq` read once. With it, return once `fresh` holds for what was
   * read (watermarks taken before the read), reading again on every watermark change.
   */
  async waitFresh<T>(
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
  async waitCovered(
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
  async tokenCovered(
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
  async partitionsCovered(
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

  newProgress(): PartitionProgress {
    return { generation: this.view.generation, partitions: new Map() };
  }

  async definitionsCovered(minSeq: number, marks: Watermarks): Promise<boolean> {
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

  lowestWatermark(): number {
    return this.lowestOf((p) => this.view.watermark(p));
  }

  lowestOf(marks: Watermarks): number {
    let low = Number.POSITIVE_INFINITY;
    for (let p = 0; p < this.naming.partitions; p++) low = Math.min(low, marks(p));
    return Number.isFinite(low) ? low : 0;
  }
}
