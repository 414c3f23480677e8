import type { JetStreamClient, JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { encodeJson } from './codec';
import { classifyNatsError, NatsPlatformError } from './errors';

export interface AppendOptions {
  /** Optimistic concurrency: the subject's last sequence the decision was made on (0 = none). */
  expectedLastSubjectSeq?: number;
  /** JetStream de-duplication id (from an Idempotency-Key). */
  msgId?: string;
  headers?: Record<string, string>;
}

export interface AppendResult {
  seq: number;
  /** The server recognised `msgId` inside the duplicate window: `seq` is the original's. */
  duplicate: boolean;
}

/** Header and framing allowance on top of the JSON payload when checking max_payload. */
const HEADER_ALLOWANCE = 1024;

/**
 * Reads and writes of the event stream. Reads are direct gets (never a consumer), so they are
 * cheap, served by any replica, and leave nothing behind on the server.
 */
export class EventStore {
  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
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
    let hdrs;
    if (options.headers) {
      hdrs = natsHeaders();
      for (const [k, v] of Object.entries(options.headers)) hdrs.set(k, v);
    }
    try {
      const ack = await this.js.publish(subject, data, {
        ...(options.msgId !== undefined ? { msgID: options.msgId } : {}),
        ...(options.expectedLastSubjectSeq !== undefined
          ? { expect: { lastSubjectSequence: options.expectedLastSubjectSeq } }
          : {}),
        ...(hdrs ? { headers: hdrs } : {}),
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw classifyNatsError(err);
    }
  }

  /** The last message on a subject (no wildcards needed, but they are allowed), or null. */
  async last(subject: string): Promise<StoredMsg | null> {
    try {
      return await this.jsm.direct.getMessage(this.stream, { last_by_subj: subject });
    } catch (err) {
      throw classifyNatsError(err);
    }
  }

  /** The message with this sequence, or null. */
  async at(seq: number): Promise<StoredMsg | null> {
    try {
      return await this.jsm.direct.getMessage(this.stream, { seq });
    } catch (err) {
      throw classifyNatsError(err);
    }
  }

  /** The first message on `subject` with a sequence >= `fromSeq`, or null. */
  async nextOnSubject(subject: string, fromSeq: number): Promise<StoredMsg | null> {
    try {
      return await this.jsm.direct.getMessage(this.stream, { seq: fromSeq, next_by_subj: subject });
    } catch (err) {
      throw classifyNatsError(err);
    }
  }

  /** Every message on one subject in stream order (one direct get each; for short histories). */
  async *allOnSubject(subject: string): AsyncGenerator<StoredMsg> {
    let from = 1;
    for (;;) {
      const msg = await this.nextOnSubject(subject, from);
      if (msg === null) return;
      yield msg;
      from = msg.seq + 1;
    }
  }
}
