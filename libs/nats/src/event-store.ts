import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson } from './codec';
import { NatsPlatformError } from './errors';
import {
  directGet,
  jsPublish,
  leaderGet,
  type PublishOptions,
  type StoredMessage,
} from './js-wire';
import type { RequestMux } from './request-mux';

export type AppendOptions = PublishOptions;

export interface AppendResult {
  seq: number;
  /** The server recognised `msgId` inside the duplicate window: `seq` is the original's. */
  duplicate: boolean;
}

/** Header and framing allowance on top of the JSON payload when checking max_payload. */
const HEADER_ALLOWANCE = 1024;

/**
 * Reads and writes of the event stream over the JetStream wire API. Reads are direct gets
 * (never a consumer): cheap, served by any replica, nothing left behind on the server — or, with
 * `reads: 'leader'`, message gets answered by the stream's leader, which has every acknowledged
 * write (for strong reads on a replicated stream).
 */
export class EventStore {
  private readonly get: typeof directGet;

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    readonly stream: string,
    options: { reads?: 'any' | 'leader' } = {},
  ) {
    this.get = options.reads === 'leader' ? leaderGet : directGet;
  }

  /** Largest payload the connected server accepts for one event. */
  get maxPayload(): number {
    return (this.nc.info?.max_payload ?? 1024 * 1024) - HEADER_ALLOWANCE;
  }

  async append(
    subject: string,
    payload: unknown,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    const data = encodeJson(payload);
    if (data.length > this.maxPayload) {
      throw new NatsPlatformError(
        'MAX_PAYLOAD',
        `event of ${data.length} bytes exceeds the server's limit of ${this.maxPayload} bytes`,
      );
    }
    return jsPublish(this.mux, subject, data, options);
  }

  /** The last message on a subject (wildcards allowed), or null. */
  last(subject: string): Promise<StoredMessage | null> {
    return this.get(this.mux, this.stream, { last_by_subj: subject });
  }

  /** The message with this sequence, or null. */
  at(seq: number): Promise<StoredMessage | null> {
    return this.get(this.mux, this.stream, { seq });
  }

  /** The first message on `subject` (wildcards allowed) with a sequence >= `fromSeq`, or null. */
  nextOnSubject(subject: string, fromSeq: number): Promise<StoredMessage | null> {
    return this.get(this.mux, this.stream, { seq: fromSeq, next_by_subj: subject });
  }

  /**
   * Time-based lag of a reader that has applied every message on `filter` (wildcards allowed)
   * up to the stream sequence `appliedSeq`: the seconds between the stream time of the last
   * message on `filter` and that of the last one applied (of the first one after it, when nothing
   * is applied yet or that message is gone). 0 when the last message on `filter` is applied.
   */
  async lagSeconds(filter: string, appliedSeq: number): Promise<number> {
    const last = await this.last(filter);
    if (last === null || last.seq <= appliedSeq) return 0;
    const applied =
      (appliedSeq > 0 ? await this.at(appliedSeq) : null) ??
      (await this.nextOnSubject(filter, appliedSeq + 1));
    const lastAt = storedAt(last);
    const appliedAt = applied === null ? null : storedAt(applied);
    if (lastAt === null || appliedAt === null) return 0;
    return Math.max(0, (lastAt - appliedAt) / 1000);
  }

  /** Every message on one subject in stream order (one direct get each; for short histories). */
  async *allOnSubject(subject: string): AsyncGenerator<StoredMessage> {
    let from = 1;
    for (;;) {
      const msg = await this.nextOnSubject(subject, from);
      if (msg === null) return;
      yield msg;
      from = msg.seq + 1;
    }
  }
}

/** Stream time (ms since the epoch) of a stored message, from the server's `Nats-Time-Stamp`. */
export function storedAt(message: StoredMessage): number | null {
  const at = Date.parse(message.header?.get('Nats-Time-Stamp') ?? '');
  return Number.isFinite(at) ? at : null;
}
