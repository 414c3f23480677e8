import { GraphQLError } from 'graphql';
import type { HubMembership, LiveHubs, LiveSink } from '../read/live-hubs';
import type { CutoffReason, LiveFrame } from '../read/sse-frames';

export interface LiveIteratorOptions<T> {
  /** The hub filter: a workflow's tokens or one token (libs/subjects naming). */
  filter: string;
  /** Resume after this seq (undefined: only new events). */
  afterSeq: number | undefined;
  /** The payload of a frame, or null to skip it (a `tokenEvents` place filter). */
  map: (frame: LiveFrame) => T | null;
  /** Unsent bytes (queued frames) past which the subscriber is cut off (SSE_CLIENT_BUFFER_BYTES). */
  bufferBytes: number;
  /** Called once when the iterator ends, however it ends; with the reason of a cut-off. */
  onEnd: (reason: CutoffReason | undefined) => void;
}

type Phase = 'setup' | 'replay' | 'live' | 'ended';

/**
 * One GraphQL subscription over the hub of its filter (the same hubs SSE streams follow), as a
 * pull-based async iterator: mercurius asks for the next payload only once it has written the
 * previous one to the socket, so the replay after `afterSeq` reads the stream one message at a
 * time as the client takes them, and live events queue meanwhile, bounded in bytes like an SSE
 * client's buffer. Past the bound the iterator fails with `LIVE_CUTOFF` (reason `slow-client`,
 * `lastSeq` to resume after) and lets go of everything; NATS and other clients never wait.
 *
 * Same order guarantees as LiveStream: the replay covers (afterSeq, position], live events
 * after the hub's position follow, no gap and no duplicate.
 */
export class LiveIterator<T> implements AsyncIterableIterator<T>, LiveSink {
  private phase: Phase = 'setup';
  private membership: HubMembership | undefined;
  private readonly queue: LiveFrame[] = [];
  private queuedBytes = 0;
  /** Highest seq taken (delivered or queued): later duplicates are dropped. */
  private accepted = 0;
  /** Seq of the last event handed out, or the resume point: what a cut-off reports. */
  private lastSeq = 0;
  /** Replay reads from here up to `replayUpTo`. */
  private replayFrom = 0;
  private replayUpTo = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((err: unknown) => void) | undefined;
  private failure: GraphQLError | undefined;

  constructor(
    private readonly hubs: LiveHubs,
    private readonly options: LiveIteratorOptions<T>,
  ) {}

  /** Join the hub and wait until it follows the stream; rejects (released) if it cannot. */
  async start(): Promise<void> {
    if (this.phase !== 'setup') return;
    const membership = this.hubs.enter(this.options.filter);
    this.membership = membership;
    try {
      await membership.ready;
    } catch (err) {
      this.release(undefined);
      throw err;
    }
    if (this.phase !== 'setup') return; // returned meanwhile
    const position = membership.attach(this);
    const { afterSeq } = this.options;
    if (afterSeq !== undefined && afterSeq < position) {
      this.phase = 'replay';
      this.accepted = position;
      this.lastSeq = afterSeq;
      this.replayFrom = afterSeq + 1;
      this.replayUpTo = position;
    } else {
      this.phase = 'live';
      this.accepted = afterSeq ?? position;
      this.lastSeq = this.accepted;
    }
  }

  get ended(): boolean {
    return this.phase === 'ended';
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  push(frame: LiveFrame): void {
    if ((this.phase !== 'live' && this.phase !== 'replay') || frame.seq <= this.accepted) return;
    this.accepted = frame.seq;
    if (this.phase === 'live' && this.waiter && this.queue.length === 0) {
      this.deliver(frame);
      return;
    }
    if (this.queue.length > 0 && this.queuedBytes + frame.bytes.length > this.options.bufferBytes) {
      this.cutOff('slow-client');
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.bytes.length;
  }

  heartbeat(): void {
    // graphql-transport-ws has its own keep-alive (ping/pong); the hub's is for SSE.
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.failure) {
        const failure = this.failure;
        this.failure = undefined;
        throw failure;
      }
      if (this.phase === 'ended' || this.phase === 'setup') return done();
      if (this.phase === 'replay') {
        const value = await this.replayNext();
        if (value !== undefined) return { value, done: false };
        continue;
      }
      const frame = this.queue.shift();
      if (frame) {
        this.queuedBytes -= frame.bytes.length;
        this.lastSeq = frame.seq;
        const value = this.options.map(frame);
        if (value !== null) return { value, done: false };
        continue;
      }
      return new Promise<IteratorResult<T>>((resolve, reject) => {
        this.waiter = resolve;
        this.failWaiter = reject;
      });
    }
  }

  async return(): Promise<IteratorResult<T>> {
    this.release(undefined);
    return done();
  }

  async throw(err?: unknown): Promise<IteratorResult<T>> {
    this.release(undefined);
    throw err;
  }

  /** End with a `LIVE_CUTOFF` error (the gateway shutting down, a client too slow). */
  cutOff(reason: CutoffReason): void {
    if (this.phase === 'ended') return;
    const error = new GraphQLError(
      `the subscription was ended (${reason}); resubscribe with afterSeq: ${this.lastSeq} to resume`,
      { extensions: { code: 'LIVE_CUTOFF', reason, lastSeq: this.lastSeq } },
    );
    const reject = this.failWaiter;
    this.release(reason);
    if (reject) reject(error);
    else this.failure = error;
  }

  /** The next replayed payload, or undefined when the replay is over (now live) or skipped one. */
  private async replayNext(): Promise<T | undefined> {
    let next;
    try {
      next = await this.hubs.next(this.options.filter, this.replayFrom);
    } catch {
      this.cutOff('unavailable');
      return undefined;
    }
    if (this.phase !== 'replay') return undefined;
    if (next === null || next.seq > this.replayUpTo) {
      this.phase = 'live';
      return undefined;
    }
    this.replayFrom = next.seq + 1;
    this.lastSeq = next.seq;
    return next.frame ? (this.options.map(next.frame) ?? undefined) : undefined;
  }

  private deliver(frame: LiveFrame): void {
    this.lastSeq = frame.seq;
    const value = this.options.map(frame);
    if (value === null) return;
    const resolve = this.waiter!;
    this.waiter = undefined;
    this.failWaiter = undefined;
    resolve({ value, done: false });
  }

  private release(reason: CutoffReason | undefined): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.membership?.leave();
    const resolve = this.waiter;
    this.waiter = undefined;
    this.failWaiter = undefined;
    this.options.onEnd(reason);
    if (resolve && !reason) resolve(done());
  }
}

function done<T>(): IteratorResult<T> {
  return { value: undefined, done: true };
}
