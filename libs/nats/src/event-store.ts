import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { decodeJson, encodeJson } from './codec';
import { JS_ERR, NatsPlatformError } from './errors';
import type { RequestMux } from './request-mux';

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

/** One stored message, as a direct get returns it. */
export interface StoredMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** The message's own headers (plus the server's Nats-* metadata). */
  header: MsgHdrs | undefined;
  /** Parse the payload as JSON (undefined if it is not JSON). */
  json(): unknown;
}

/** Header and framing allowance on top of the JSON payload when checking max_payload. */
const HEADER_ALLOWANCE = 1024;
const API_TIMEOUT_MS = 5000;

interface PubAck {
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

/**
 * Reads and writes of the event stream over the JetStream wire API. Reads are direct gets
 * (never a consumer): cheap, served by any replica, nothing left behind on the server.
 */
export class EventStore {
  private readonly directGet: string;

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    readonly stream: string,
  ) {
    this.directGet = `$JS.API.DIRECT.GET.${stream}`;
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
    const h = natsHeaders();
    if (options.msgId !== undefined) h.set('Nats-Msg-Id', options.msgId);
    if (options.expectedLastSubjectSeq !== undefined) {
      h.set('Nats-Expected-Last-Subject-Sequence', String(options.expectedLastSubjectSeq));
    }
    for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
    const reply = await this.mux.request(subject, data, API_TIMEOUT_MS, h);
    const ack = decodeJson(reply.data) as PubAck | undefined;
    if (ack?.error) {
      const code =
        ack.error.err_code === JS_ERR.wrongLastSequence ? 'WRONG_LAST_SEQUENCE' : 'JETSTREAM';
      throw new NatsPlatformError(code, ack.error.description ?? 'publish rejected', {
        cause: { code: ack.error.code, err_code: ack.error.err_code },
      });
    }
    if (typeof ack?.seq !== 'number')
      throw new NatsPlatformError('JETSTREAM', 'unreadable publish acknowledgement');
    return { seq: ack.seq, duplicate: ack.duplicate === true };
  }

  /** The last message on a subject (wildcards allowed), or null. */
  last(subject: string): Promise<StoredMessage | null> {
    return this.get({ last_by_subj: subject });
  }

  /** The message with this sequence, or null. */
  at(seq: number): Promise<StoredMessage | null> {
    return this.get({ seq });
  }

  /** The first message on `subject` with a sequence >= `fromSeq`, or null. */
  nextOnSubject(subject: string, fromSeq: number): Promise<StoredMessage | null> {
    return this.get({ seq: fromSeq, next_by_subj: subject });
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

  private async get(query: Record<string, unknown>): Promise<StoredMessage | null> {
    const reply = await this.mux.request(this.directGet, encodeJson(query), API_TIMEOUT_MS);
    const h = reply.headers;
    const status = h?.code ?? 0;
    if (status === 404) return null;
    if (status >= 400 || !h) {
      throw new NatsPlatformError(
        'JETSTREAM',
        `direct get failed: ${status} ${h?.description ?? ''}`.trim(),
      );
    }
    const data = reply.data;
    return {
      seq: Number(h.get('Nats-Sequence')),
      subject: h.get('Nats-Subject'),
      data,
      header: h,
      json: () => decodeJson(data),
    };
  }
}
