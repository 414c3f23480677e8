import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { HubMembership, LiveHubs, LiveSink } from './live-hubs';
import {
  SSE_HEADERS,
  cutoffFrame,
  preambleFrame,
  type CutoffReason,
  type LiveFrame,
} from './sse-frames';

export interface LiveStreamOptions {
  /** Unsent bytes (socket buffer plus queued events) past which the client is cut off. */
  bufferBytes: number;
  /** How long an ended stream may take to flush its last bytes before its socket is destroyed. */
  lingerMs: number;
  /** Called once when the stream lets go of its slot, with the reason if it was cut off. */
  onEnd: (stream: LiveStream, reason: CutoffReason | undefined) => void;
}

type Phase = 'setup' | 'replay' | 'live' | 'ended';

/** Sent slots at the front of the queue are dropped once there are this many (and half of it). */
const COMPACT_AFTER = 1024;

/**
 * One client's live event stream over its HTTP response. It holds its slot and hub membership
 * from the first moment and lets go of both on every way out: the client gone (before, during
 * or after set-up), a socket error, a cut-off, shutdown.
 *
 * A client that resumes first gets the events after its resume point up to the hub's position
 * when it joined, read from the stream one at a time as its socket accepts them, while live
 * events after that position wait in its queue; then the queue, then live events as they come:
 * no gap, no duplicate. What the client has not accepted (socket buffer plus queue) is bounded:
 * an event that would take it past `bufferBytes` cuts the client off with a final `cutoff` event
 * (one event is always accepted when nothing is pending), so a slow client never holds up NATS
 * or anyone else.
 */
export class LiveStream implements LiveSink {
  private phase: Phase = 'setup';
  private membership: HubMembership | undefined;
  /** Frames waiting for the socket: `queue[head..]`. */
  private readonly queue: Array<LiveFrame | undefined> = [];
  private head = 0;
  private queuedBytes = 0;
  /** The socket wants a 'drain' before more is written. */
  private blocked = false;
  private onDrain: (() => void) | undefined;
  /** Highest seq taken (written or queued): later duplicates are dropped. */
  private accepted = 0;
  /** Seq of the last event handed to the socket, or the resume point: the cut-off's id. */
  private lastEventId = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly hubs: LiveHubs,
    private readonly log: FastifyBaseLogger,
    private readonly options: LiveStreamOptions,
  ) {
    // Attached before anything is awaited: a client gone at any point lets go of everything.
    res.on('close', () => this.release(undefined));
    res.on('error', () => this.release(undefined));
    res.on('drain', () => this.drained());
  }

  /** The response is streaming (headers sent) and the stream has not ended. */
  get streaming(): boolean {
    return this.phase === 'replay' || this.phase === 'live';
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  /**
   * Follow `filter` after `afterSeq` (undefined: only new events): join its hub, then send the
   * headers. Rejects (nothing sent) if the hub cannot follow the stream; resolves without
   * sending anything if the stream ended meanwhile (client gone, shutdown).
   */
  async follow(
    filter: string,
    afterSeq: number | undefined,
    headers: Record<string, string>,
  ): Promise<void> {
    if (this.phase !== 'setup') return;
    const membership = this.hubs.enter(filter);
    this.membership = membership;
    await membership.ready;
    if (this.phase !== 'setup') return; // release() has left the hub
    const position = membership.attach(this);
    this.res.writeHead(200, { ...SSE_HEADERS, ...headers });
    this.write(preambleFrame(filter, afterSeq));
    if (afterSeq !== undefined && afterSeq < position) {
      this.phase = 'replay';
      this.accepted = position;
      this.lastEventId = afterSeq;
      void this.replay(filter, afterSeq, position);
    } else {
      this.phase = 'live';
      this.accepted = afterSeq ?? position;
      this.lastEventId = this.accepted;
    }
  }

  push(frame: LiveFrame): void {
    if (!this.streaming || frame.seq <= this.accepted) return;
    this.accepted = frame.seq;
    if (this.phase === 'live' && !this.blocked && !this.queued) {
      this.send(frame);
      return;
    }
    const pending = this.res.writableLength + this.queuedBytes;
    if (pending > 0 && pending + frame.bytes.length > this.options.bufferBytes) {
      this.log.warn(
        { pending, bufferBytes: this.options.bufferBytes, lastEventId: this.lastEventId },
        'live events client too slow; cut off (it can resume)',
      );
      this.end('slow-client');
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.bytes.length;
  }

  heartbeat(bytes: Buffer): void {
    // Only on a quiet connection: one with output pending needs no keep-alive.
    if (this.phase === 'live' && !this.blocked && !this.queued) this.write(bytes);
  }

  /**
   * End the stream with a final `cutoff` event; before the headers are sent, just let go (the
   * route answers). The slot is free at once; the socket gets `lingerMs` to flush its last bytes,
   * then is destroyed.
   */
  end(reason: CutoffReason, lingerMs = this.options.lingerMs): void {
    if (!this.streaming) {
      this.abandon();
      return;
    }
    this.release(reason);
    const linger = setTimeout(() => this.res.destroy(), lingerMs);
    linger.unref();
    this.res.once('close', () => clearTimeout(linger));
    this.res.end(cutoffFrame(reason, this.lastEventId));
  }

  /** Let go of slot and hub, leaving the response alone (set-up failed: the route answers). */
  abandon(): void {
    this.release(undefined);
  }

  private get queued(): boolean {
    return this.head < this.queue.length;
  }

  private release(reason: CutoffReason | undefined): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.queue.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.membership?.leave();
    this.onDrain?.();
    this.options.onEnd(this, reason);
  }

  private write(bytes: Buffer): void {
    if (!this.res.write(bytes)) this.blocked = true;
  }

  private send(frame: LiveFrame): void {
    this.write(frame.bytes);
    this.lastEventId = frame.seq;
  }

  private drained(): void {
    this.blocked = false;
    if (this.onDrain) {
      this.onDrain();
      return;
    }
    if (this.phase === 'live') this.flush();
  }

  private flush(): void {
    while (!this.blocked && this.queued) {
      const frame = this.queue[this.head]!;
      this.queue[this.head++] = undefined; // sent: the queue no longer holds it
      this.queuedBytes -= frame.bytes.length;
      this.send(frame);
    }
    if (!this.queued) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve) => {
      this.onDrain = () => {
        this.onDrain = undefined;
        resolve();
      };
    });
  }

  /** Events in (afterSeq, upTo] from the stream, as fast as the socket takes them; then live. */
  private async replay(filter: string, afterSeq: number, upTo: number): Promise<void> {
    let from = afterSeq + 1;
    try {
      while (this.phase === 'replay') {
        if (this.blocked) {
          await this.waitForDrain();
          continue;
        }
        const next = await this.hubs.next(filter, from);
        if (this.phase !== 'replay') return;
        if (next === null || next.seq > upTo) break;
        from = next.seq + 1;
        if (next.frame) this.send(next.frame);
      }
    } catch (err) {
      this.log.warn({ err: String(err), filter }, 'live events replay failed; cut off');
      this.end('unavailable');
      return;
    }
    if (this.phase !== 'replay') return;
    this.phase = 'live';
    this.flush();
  }
}
