import { evolveToken, type TokenStreamState } from '@cb/domain';
import { isTokenEvent, lastValidEvent, type EventStore } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { TokenEvent } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { LruCache } from './lru';
import { lastStoredEvent, type StoredEvent } from './stored-event';

export interface LoadedToken {
  state: TokenStreamState;
  /** Seq of the token's last valid event (0 when it never existed): its `version`. */
  version: number;
  /** Seq of the last message on the subject: the expectation for the next write. */
  lastSubjectSeq: number;
  last: StoredEvent | null;
  /**
   * True when served from this instance's cache. A cached state may be stale (another replica
   * wrote since): a write based on it fails its expected-sequence check and is retried fresh,
   * and a rejection must never be based on it (the caller reloads first).
   */
  cached: boolean;
}

const ABSENT: LoadedToken = {
  state: { status: 'absent' },
  version: 0,
  lastSubjectSeq: 0,
  last: null,
  cached: false,
};

/**
 * Loads a token for a decision with one direct get: every token event carries the full state
 * after it, so the last message on the token's subject is the current state. States this
 * instance wrote itself are cached, which saves the direct get on the hot path.
 */
export class TokenRepository {
  private readonly cache: LruCache<string, LoadedToken>;
  /** Token subject → its definition version, which never changes once the token exists. */
  private readonly versions: LruCache<string, number>;

  constructor(
    private readonly store: EventStore,
    private readonly naming: Naming,
    private readonly logger: Logger,
    cacheSize = 50_000,
  ) {
    this.cache = new LruCache(cacheSize);
    this.versions = new LruCache(cacheSize);
  }

  /** The definition version of a token this instance has read or written, if it has. */
  knownDefinitionVersion(tenant: string, workflowId: string, tokenId: string): number | undefined {
    return this.versions.get(this.naming.tokenSubject(tenant, workflowId, tokenId));
  }

  /**
   * The token's state: from the cache unless `fresh`; otherwise one direct get of the last message
   * on its subject, kept in the cache when `keep` (the caller owns the token's partition, so no one
   * else writes it).
   */
  async load(
    tenant: string,
    workflowId: string,
    tokenId: string,
    options: { fresh?: boolean; keep?: boolean } = {},
  ): Promise<LoadedToken> {
    const subject = this.naming.tokenSubject(tenant, workflowId, tokenId);
    if (!options.fresh) {
      const hit = this.cache.get(subject);
      if (hit) return hit;
    }
    const found = await lastValidEvent(this.store, subject, isTokenEvent);
    if (found.last === null) return ABSENT;
    const last = lastStoredEvent({ ...found, last: found.last });
    if (found.skipped === undefined && found.event !== null) {
      const state = evolveToken({ status: 'absent' }, found.event);
      if (state.status === 'live') this.versions.set(subject, state.token.definitionVersion);
      const loaded: LoadedToken = {
        state,
        version: last.seq,
        lastSubjectSeq: last.seq,
        last,
        cached: false,
      };
      if (options.keep) this.cache.set(subject, { ...loaded, cached: true });
      return loaded;
    }
    // Something that is not a token event was published on the subject (a misbehaving client):
    // the state is the last valid event's, and the next write still expects the real last seq.
    this.logger.warn(
      { subject, seq: last.seq, reason: found.skipped },
      'skipping invalid message on token subject',
    );
    const state: TokenStreamState =
      found.event === null ? { status: 'absent' } : evolveToken({ status: 'absent' }, found.event);
    const version = found.message?.seq ?? 0;
    return { state, version, lastSubjectSeq: last.seq, last, cached: false };
  }

  /** Remember the state after an event this instance just appended. */
  remember(
    tenant: string,
    event: TokenEvent,
    seq: number,
    msgId: string | undefined,
    commandHash: string | undefined,
  ): void {
    const subject = this.naming.tokenSubject(tenant, event.workflowId, event.tokenId);
    const state = evolveToken({ status: 'absent' }, event);
    if (state.status === 'live') this.versions.set(subject, state.token.definitionVersion);
    this.cache.set(subject, {
      state,
      version: seq,
      lastSubjectSeq: seq,
      last: {
        seq,
        event,
        ...(msgId !== undefined ? { msgId } : {}),
        ...(commandHash !== undefined ? { commandHash } : {}),
      },
      cached: true,
    });
  }

  forget(tenant: string, workflowId: string, tokenId: string): void {
    this.cache.delete(this.naming.tokenSubject(tenant, workflowId, tokenId));
  }

  /** Forget every token of a partition (it changed owner). */
  forgetPartition(partition: number): void {
    const prefix = this.naming.partitionSubjectPrefix(partition);
    this.cache.deleteWhere((subject) => subject.startsWith(prefix));
  }

  /** The workflow of the tenant a token id belongs to (ids are unique within a tenant). */
  async workflowOf(tenant: string, tokenId: string): Promise<string | null> {
    const msg = await this.store.last(this.naming.tokenSubjectAnyWorkflow(tenant, tokenId));
    if (msg === null) return null;
    return this.naming.parseTokenSubject(msg.subject)?.workflowId ?? null;
  }
}
