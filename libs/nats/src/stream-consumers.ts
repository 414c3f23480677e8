import {
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { connectionInbox } from './permissions';
import { jsApiConsumerCreate, jsApiConsumerDelete } from '@cb/subjects';
import { decodeJson, encodeJson } from './codec';
import { NatsPlatformError } from './errors';
import type { RequestMux } from './request-mux';

/**
 * Short-lived ephemeral push consumers spoken over the wire API: a one-shot scan of a subject
 * range (a KV key range, a token's history) and a gap-free tail (live events). Both use a single
 * `filter_subject`, which every server since 2.9 understands, and delete their consumer when
 * done; `inactive_threshold` removes it anyway if the process dies first.
 */

const API_TIMEOUT_MS = 5000;
const NS_PER_MS = 1_000_000;

/** One message delivered by a scan or a tail. */
export interface DeliveredMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
  /** Messages still to deliver after this one when it was sent. */
  pending: number;
}

export type StartAt =
  | { deliver: 'all' }
  | { deliver: 'new' }
  | { deliver: 'last_per_subject' }
  | { deliver: 'by_start_sequence'; seq: number };

interface ConsumerCreateReply {
  name?: string;
  num_pending?: number;
  delivered?: { stream_seq?: number };
  error?: { code?: number; err_code?: number; description?: string };
}

/** Parse `$JS.ACK.…` reply subjects (both the 9- and 12-token forms). */
export function parseAckSubject(
  reply: string | undefined,
): { streamSeq: number; consumerSeq: number; pending: number } | null {
  if (!reply?.startsWith('$JS.ACK.')) return null;
  const t = reply.split('.');
  // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>
  // $JS.ACK.<domain>.<hash>.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<ts>.<pending>.<token>
  const base = t.length >= 12 ? 6 : 4;
  const streamSeq = Number(t[base + 1]);
  const consumerSeq = Number(t[base + 2]);
  const pending = Number(t[base + 4]);
  if (!Number.isFinite(streamSeq) || !Number.isFinite(consumerSeq) || !Number.isFinite(pending)) {
    return null;
  }
  return { streamSeq, consumerSeq, pending };
}

function startConfig(start: StartAt): Record<string, unknown> {
  return start.deliver === 'by_start_sequence'
    ? { deliver_policy: 'by_start_sequence', opt_start_seq: Math.max(1, start.seq) }
    : { deliver_policy: start.deliver };
}

async function createConsumer(
  mux: RequestMux,
  stream: string,
  config: Record<string, unknown>,
): Promise<ConsumerCreateReply & { name: string }> {
  const reply = await mux.request(
    jsApiConsumerCreate(stream),
    encodeJson({ stream_name: stream, config }),
    API_TIMEOUT_MS,
  );
  const parsed = decodeJson(reply.data) as ConsumerCreateReply | undefined;
  if (!parsed || parsed.error || typeof parsed.name !== 'string') {
    const code = parsed?.error?.code === 404 ? 'STREAM_NOT_FOUND' : 'JETSTREAM';
    throw new NatsPlatformError(
      code,
      `cannot create a consumer on ${stream}: ${parsed?.error?.description ?? 'no reply'}`,
      { cause: parsed?.error },
    );
  }
  return parsed as ConsumerCreateReply & { name: string };
}

function deleteConsumer(mux: RequestMux, stream: string, name: string): Promise<void> {
  return mux.request(jsApiConsumerDelete(stream, name), new Uint8Array(0), API_TIMEOUT_MS).then(
    () => undefined,
    () => undefined, // inactive_threshold removes it if this fails
  );
}

export interface ScanOptions {
  start?: StartAt;
  headersOnly?: boolean;
  /** Give up (NatsPlatformError TIMEOUT) when the scan takes longer. */
  timeoutMs?: number;
  /** Stop after this many messages (the scan reports `truncated`). */
  maxMessages?: number;
}

export interface ScanResult {
  messages: DeliveredMessage[];
  truncated: boolean;
}

/**
 * Every message on `filter` that exists when the scan starts (with `last_per_subject`: the last
 * one per subject, so a KV key range), in stream order, through one ephemeral consumer.
 */
export async function scanStream(
  nc: NatsConnection,
  mux: RequestMux,
  stream: string,
  filter: string,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const inbox = connectionInbox(nc);
  const messages: DeliveredMessage[] = [];
  const max = options.maxMessages ?? Number.POSITIVE_INFINITY;
  let sub: Subscription | undefined;
  let name: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<ScanResult>((resolve, reject) => {
      let finished = false;
      let expected: number | undefined;
      const finish = (truncated: boolean): void => {
        finished = true;
        resolve({ messages, truncated });
      };
      sub = nc.subscribe(inbox, {
        callback: (err, msg: Msg) => {
          if (finished) return;
          if (err) return reject(err);
          const ack = parseAckSubject(msg.reply);
          if (!ack) return; // status messages
          messages.push({
            subject: msg.subject,
            seq: ack.streamSeq,
            data: msg.data,
            headers: msg.headers,
            pending: ack.pending,
          });
          if (messages.length >= max) return finish(ack.pending > 0);
          // Done at the end of the stream, or once the messages that existed at creation are in
          // (under constant writes `pending` may never reach 0).
          if (ack.pending === 0 || (expected !== undefined && messages.length >= expected)) {
            finish(false);
          }
        },
      });
      timer = setTimeout(
        () =>
          reject(
            new NatsPlatformError('TIMEOUT', `scan of ${filter} took over ${options.timeoutMs} ms`),
          ),
        options.timeoutMs ?? 10_000,
      );
      createConsumer(mux, stream, {
        ...startConfig(options.start ?? { deliver: 'all' }),
        deliver_subject: inbox,
        filter_subject: filter,
        ack_policy: 'none',
        replay_policy: 'instant',
        headers_only: options.headersOnly === true,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: 10_000 * NS_PER_MS,
      }).then((created) => {
        name = created.name;
        expected = created.num_pending ?? 0;
        if (!finished && messages.length >= Math.min(expected, max)) {
          finish(messages.length >= max && expected > max);
        }
      }, reject);
    });
  } finally {
    clearTimeout(timer);
    sub?.unsubscribe();
    if (name) void deleteConsumer(mux, stream, name);
  }
}

export interface TailOptions {
  start: StartAt;
  /** Heartbeat interval the server sends while idle; a silence of 3× restarts the consumer. */
  heartbeatMs?: number;
  onMessage: (msg: DeliveredMessage) => void;
  /** A consumer (re)creation failed; the tail retries by itself. */
  onError?: (err: unknown) => void;
}

/**
 * Follow `filter` from a start point, in stream order, with no gap and no duplicate: the
 * consumer's own sequence is checked on every message and heartbeat, and on a gap, a missed
 * heartbeat or a lost consumer (NATS restarted) a new one resumes after the last delivered
 * stream seq. `stop()` unsubscribes and deletes the consumer.
 */
export class StreamTail {
  private sub: Subscription | undefined;
  private name: string | undefined;
  private lastStreamSeq = 0;
  private consumerSeq = 0;
  private stopped = false;
  private lastSeen = Date.now();
  private readonly watchdog: NodeJS.Timeout;
  private restarting: Promise<void> | undefined;
  private readonly heartbeatMs: number;

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly stream: string,
    private readonly filter: string,
    private readonly options: TailOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 5000;
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastSeen > 3 * this.heartbeatMs) this.restart();
    }, this.heartbeatMs);
    this.watchdog.unref();
  }

  /** Create the first consumer; rejects if that fails (e.g. the stream does not exist). */
  async start(): Promise<void> {
    await this.open(this.options.start);
  }

  /** Stream seq of the last message delivered. */
  get position(): number {
    return this.lastStreamSeq;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.watchdog);
    await this.close();
  }

  private async close(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = undefined;
    const name = this.name;
    this.name = undefined;
    if (name) await deleteConsumer(this.mux, this.stream, name);
  }

  private async open(start: StartAt): Promise<void> {
    const inbox = connectionInbox(this.nc);
    this.consumerSeq = 0;
    this.lastSeen = Date.now();
    this.sub = this.nc.subscribe(inbox, { callback: (_err, msg) => this.onMsg(msg) });
    try {
      const created = await createConsumer(this.mux, this.stream, {
        ...startConfig(start),
        deliver_subject: inbox,
        filter_subject: this.filter,
        ack_policy: 'none',
        replay_policy: 'instant',
        flow_control: true,
        idle_heartbeat: this.heartbeatMs * NS_PER_MS,
        mem_storage: true,
        num_replicas: 1,
        inactive_threshold: Math.max(30_000, 6 * this.heartbeatMs) * NS_PER_MS,
      });
      this.name = created.name;
      // Everything up to where the consumer starts counts as seen, so a restart resumes there.
      if (start.deliver !== 'last_per_subject') {
        this.lastStreamSeq = Math.max(this.lastStreamSeq, created.delivered?.stream_seq ?? 0);
      }
      if (this.stopped) await this.close();
    } catch (err) {
      this.sub?.unsubscribe();
      this.sub = undefined;
      throw err;
    }
  }

  private onMsg(msg: Msg): void {
    if (this.stopped) return;
    this.lastSeen = Date.now();
    const ack = parseAckSubject(msg.reply);
    if (!ack) {
      const h = msg.headers;
      if (h?.code === 100) {
        if (msg.reply) msg.respond(); // flow control request
        // An idle heartbeat names the last consumer seq the server sent: more than we saw = gap.
        const last = Number(h.get('Nats-Last-Consumer') || 0);
        if (last > this.consumerSeq) this.restart();
      }
      return;
    }
    if (ack.consumerSeq !== this.consumerSeq + 1) {
      this.restart();
      return;
    }
    this.consumerSeq = ack.consumerSeq;
    if (ack.streamSeq <= this.lastStreamSeq) return;
    this.lastStreamSeq = ack.streamSeq;
    this.options.onMessage({
      subject: msg.subject,
      seq: ack.streamSeq,
      data: msg.data,
      headers: msg.headers,
      pending: ack.pending,
    });
  }

  /** Replace the consumer with one that starts right after the last delivered message. */
  private restart(): void {
    if (this.stopped || this.restarting) return;
    this.restarting = (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.close();
          const start: StartAt =
            this.lastStreamSeq > 0
              ? { deliver: 'by_start_sequence', seq: this.lastStreamSeq + 1 }
              : this.options.start;
          await this.open(start);
          return;
        } catch (err) {
          this.options.onError?.(err);
          await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** attempt)));
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
  }
}
