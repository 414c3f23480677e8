import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError } from '../api-error';
import type { LiveHubs } from './live-hubs';
import { LiveStream } from './live-stream';
import { CUTOFF_REASONS, type CutoffReason } from './sse-frames';

export interface LiveEventsOptions {
  maxConnections: number;
  /** A client's unsent bytes past which it is cut off (SSE_CLIENT_BUFFER_BYTES). */
  clientBufferBytes: number;
}

/** What /metrics reports: these are the real counts, not estimates. */
export interface LiveEventStats {
  /** Streams holding a slot (what SSE_MAX_CONNECTIONS bounds), set-up included. */
  streams: number;
  /** Hubs, each one NATS consumer. */
  subscriptions: number;
  /** Streams ended with a final `cutoff` event, by reason, since start. */
  cutoffs: Record<CutoffReason, number>;
}

/** A cut-off stream may take this long to flush its last bytes to a client that reads late. */
const CUTOFF_LINGER_MS = 30_000;
/** At shutdown the server waits for open sockets: streams get only this long. */
const SHUTDOWN_LINGER_MS = 1000;

/**
 * Live token events for HTTP clients: a bounded number of streams (slots), each served by the
 * hub of its filter (see LiveHubs), each with a bounded buffer (see LiveStream).
 */
export class LiveEvents {
  private readonly streams = new Set<LiveStream>();
  private readonly cutoffs = Object.fromEntries(CUTOFF_REASONS.map((r) => [r, 0])) as Record<
    CutoffReason,
    number
  >;

  /** Slots held by clients that are not SSE streams (GraphQL subscriptions), see `reserve`. */
  private reserved = 0;

  constructor(
    /** The hubs, also followed by GraphQL subscriptions (graphql/subscriptions.ts). */
    readonly hubs: LiveHubs,
    readonly options: LiveEventsOptions,
  ) {}

  /**
   * Take a slot for this response (429 when none is free). Synchronous, and the stream lets go
   * of its slot however the response ends, so call it before awaiting anything.
   */
  open(res: ServerResponse, log: FastifyBaseLogger): LiveStream {
    if (this.streams.size + this.reserved >= this.options.maxConnections) {
      throw new ApiError(
        'TOO_MANY_REQUESTS',
        `the gateway serves at most ${this.options.maxConnections} live event streams; retry later`,
        { retryAfterSeconds: 5 },
      );
    }
    const stream = new LiveStream(res, this.hubs, log, {
      bufferBytes: this.options.clientBufferBytes,
      lingerMs: CUTOFF_LINGER_MS,
      onEnd: (s, reason) => {
        this.streams.delete(s);
        if (reason) this.cutoffs[reason]++;
      },
    });
    this.streams.add(stream);
    if (res.destroyed) stream.abandon(); // gone before we got here
    return stream;
  }

  /**
   * Take a slot for a client that is not an SSE response (a GraphQL subscription): the same
   * bound as SSE streams. Throws TOO_MANY_REQUESTS when none is free; the returned function
   * lets go of it (idempotent). A cut-off is counted when it is called with a reason.
   */
  reserve(): (reason?: CutoffReason) => void {
    if (this.streams.size + this.reserved >= this.options.maxConnections) {
      throw new ApiError(
        'TOO_MANY_REQUESTS',
        `the gateway serves at most ${this.options.maxConnections} live event streams and subscriptions; retry later`,
        { retryAfterSeconds: 5 },
      );
    }
    this.reserved++;
    let released = false;
    return (reason) => {
      if (released) return;
      released = true;
      this.reserved--;
      if (reason) this.cutoffs[reason]++;
    };
  }

  stats(): LiveEventStats {
    return {
      streams: this.streams.size + this.reserved,
      subscriptions: this.hubs.size,
      cutoffs: { ...this.cutoffs },
    };
  }

  /** Shutdown: every stream ends (with a final `cutoff` event where it streams), then the hubs. */
  async stopAll(): Promise<void> {
    this.endAll();
    await this.hubs.stopAll();
  }

  /** End every stream now, so closing the HTTP server does not wait for them. */
  endAll(): void {
    for (const stream of [...this.streams]) stream.end('shutdown', SHUTDOWN_LINGER_MS);
  }
}
