import type { NatsConnection } from '@nats-io/transport-node';
import { encodeJson } from './codec';
import { NatsPlatformError } from './errors';
import { directGet, jsPublish, type PublishOptions, type StoredMessage } from './js-wire';
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
 * (never a consumer): cheap, served by any replica, nothing left behind on the server.
 */
export class EventStore {
  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    readonly stream: string,
  ) {}

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
    return directGet(this.mux, this.stream, { last_by_subj: subject });
  }

  /** The message with this sequence, or null. */
  at(seq: number): Promise<StoredMessage | null> {
    return directGet(this.mux, this.stream, { seq });
  }

  /** The first message on `subject` (wildcards allowed) with a sequence >= `fromSeq`, or null. */
  nextOnSubject(subject: string, fromSeq: number): Promise<StoredMessage | null> {
    return directGet(this.mux, this.stream, { seq: fromSeq, next_by_subj: subject });
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
