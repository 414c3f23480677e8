import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import { StreamTail, decodeEvent, directGet, type RequestMux } from '@cb/nats';
import { eventFrame, heartbeatFrame, type LiveFrame } from './sse-frames';

/** A client of a hub. Both calls are synchronous and must not throw. */
export interface LiveSink {
  /** The next live event of the hub's filter, in stream order, after the sink's join position. */
  push(frame: LiveFrame): void;
  /** A keep-alive comment, sent while the hub is idle or not. */
  heartbeat(bytes: Buffer): void;
}

/** One client's hold on a hub, taken before the hub is ready. */
export interface HubMembership {
  /** Resolves once the hub follows the stream; rejects if its consumer cannot be created. */
  readonly ready: Promise<void>;
  /**
   * Start receiving events (once, after `ready`). Returns the hub's position: every event of the
   * filter after it reaches `push`, and every one up to it was in the stream before.
   */
  attach(sink: LiveSink): number;
  /** Stop receiving; the last leave deletes the hub and its consumer. Idempotent. */
  leave(): void;
}

/** A message read for a replay: its seq, and its frame (null when it is not a token event). */
export interface ReplayedMessage {
  seq: number;
  frame: LiveFrame | null;
}

export interface LiveHubsOptions {
  heartbeatMs: number;
}

/**
 * One NATS subscription per filter (workflow or token) for the whole gateway: a gap-free
 * `StreamTail` that starts at new events, fanned out in process to every client of that filter,
 * reference-counted and deleted with the last client. Each event is decoded and serialised
 * once per hub. Since a filter is a workflow or one token, an event reaches at most two hubs,
 * however many clients follow it.
 */
export class LiveHubs {
  private readonly hubs = new Map<string, LiveHub>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly stream: string,
    private readonly logger: Logger,
    private readonly options: LiveHubsOptions,
  ) {}

  /** Hubs (one NATS consumer each) alive now. */
  get size(): number {
    return this.hubs.size;
  }

  /** Join the hub of `filter`, creating it on first use. Synchronous: `leave()` works at once. */
  enter(filter: string): HubMembership {
    let hub = this.hubs.get(filter);
    if (!hub) {
      const created = new LiveHub(this.nc, this.mux, this.stream, filter, this.logger, {
        heartbeatMs: this.options.heartbeatMs,
        onIdle: () => {
          if (this.hubs.get(filter) === created) this.hubs.delete(filter);
        },
      });
      this.hubs.set(filter, created);
      hub = created;
    }
    return hub.retain();
  }

  /**
   * The first message on `filter` at or after `fromSeq` (null when there is none), by direct
   * get: one message in memory at a time and nothing left on the server.
   */
  async next(filter: string, fromSeq: number): Promise<ReplayedMessage | null> {
    const msg = await directGet(this.mux, this.stream, { seq: fromSeq, next_by_subj: filter });
    return msg === null ? null : { seq: msg.seq, frame: frameOf(msg.seq, msg.data) };
  }

  async stopAll(): Promise<void> {
    const hubs = [...this.hubs.values()];
    this.hubs.clear();
    await Promise.all(hubs.map((h) => h.stop()));
  }
}

/** Token events become frames; the workflow's definitions and garbage on a subject do not. */
function frameOf(seq: number, data: Uint8Array): LiveFrame | null {
  const decoded = decodeEvent(data);
  if (!decoded.ok || decoded.event.type === 'workflow.defined.v1') return null;
  return eventFrame({ seq, event: decoded.event });
}

interface LiveHubOptions {
  heartbeatMs: number;
  /** Called once, when the last member leaves or the consumer cannot be created. */
  onIdle: () => void;
}

class LiveHub {
  private readonly tail: StreamTail;
  private readonly sinks = new Set<LiveSink>();
  private readonly heartbeat: NodeJS.Timeout;
  private refs = 0;
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(
    nc: NatsConnection,
    mux: RequestMux,
    stream: string,
    filter: string,
    logger: Logger,
    private readonly options: LiveHubOptions,
  ) {
    this.tail = new StreamTail(nc, mux, stream, filter, {
      start: { deliver: 'new' },
      heartbeatMs: Math.min(5000, options.heartbeatMs),
      onMessage: (msg) => {
        const frame = frameOf(msg.seq, msg.data);
        if (frame) for (const sink of this.sinks) sink.push(frame);
      },
      onError: (err) => logger.warn({ err: String(err), filter }, 'live events restarting'),
    });
    this.heartbeat = setInterval(() => {
      if (this.sinks.size === 0) return;
      const bytes = heartbeatFrame(Date.now());
      for (const sink of this.sinks) sink.heartbeat(bytes);
    }, options.heartbeatMs);
    this.heartbeat.unref();
    this.ready = this.tail.start().catch(async (err: unknown) => {
      await this.stop();
      throw err;
    });
    this.ready.catch(() => undefined); // every member awaits it; none must see an unhandled one
  }

  retain(): HubMembership {
    this.refs++;
    let attached: LiveSink | undefined;
    let left = false;
    return {
      ready: this.ready,
      attach: (sink) => {
        if (!left && !this.stopped) {
          attached = sink;
          this.sinks.add(sink);
        }
        return this.tail.position;
      },
      leave: () => {
        if (left) return;
        left = true;
        if (attached) this.sinks.delete(attached);
        if (--this.refs === 0) void this.stop();
      },
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onIdle();
    clearInterval(this.heartbeat);
    this.sinks.clear();
    await this.tail.stop();
  }
}
