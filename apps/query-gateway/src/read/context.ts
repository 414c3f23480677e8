import type { NatsConnection } from '@nats-io/transport-node';
import type { GuardPool } from '@cb/guard-pool';
import {
  classifyNatsError,
  kvOperation,
  scanStream,
  type DeliveredMessage,
  type EventStore,
  type RequestMux,
} from '@cb/nats';
import { kvStreamName, type Naming } from '@cb/subjects';
import type { StrongTokenReader } from '../token-reader';
import type { Freshness } from './freshness';
import type { ReadView } from './read-view';

export interface ReadsOptions {
  /** How long a read with `minSeq` waits for the projections before 503 PROJECTION_LAGGING. */
  lagWaitMs: number;
  /** Bound on one key-range scan. */
  scanTimeoutMs: number;
}

/** A read and the seq it is as of: every event with seq ≤ asOf is reflected in it. */
export interface AsOf<T> {
  value: T;
  asOf: number;
}

/** What every kind of read works with: NATS, the stream, the read models and their freshness. */
export interface ReadContext {
  readonly nc: NatsConnection;
  readonly mux: RequestMux;
  readonly naming: Naming;
  readonly store: EventStore;
  readonly view: ReadView;
  readonly strong: StrongTokenReader;
  readonly guards: GuardPool;
  readonly options: ReadsOptions;
  readonly freshness: Freshness;
}

/** One key-range scan of a bucket: the last entry of every key that `filter` matches. */
export async function scanKeys(
  ctx: ReadContext,
  bucket: string,
  filter: string,
): Promise<DeliveredMessage[]> {
  try {
    const { messages } = await scanStream(ctx.nc, ctx.mux, kvStreamName(bucket), filter, {
      start: { deliver: 'last_per_subject' },
      timeoutMs: ctx.options.scanTimeoutMs,
    });
    return messages;
  } catch (err) {
    // No projection worker has created the buckets yet: nothing is projected.
    if ((err as { code?: string }).code === 'STREAM_NOT_FOUND') return [];
    throw err;
  }
}

/** A restricted key's lists are lists of their own: a cursor of an unrestricted one never serves it. */
export function restriction(visible: ReadonlySet<string> | undefined): string {
  return visible === undefined ? '' : `[${[...visible].sort().join(',')}]`;
}

export function isPut(m: DeliveredMessage): boolean {
  return kvOperation(m.headers) === 'PUT';
}

/** A missing bucket (no projection worker created it yet) reads as a missing key. */
export function notFound(err: unknown): null {
  const code = classifyNatsError(err).code;
  if (code === 'NO_RESPONDERS' || code === 'STREAM_NOT_FOUND') return null;
  throw err;
}
