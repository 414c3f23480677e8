import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import { StreamTail, decodeEvent, type RequestMux, type StartAt } from '@cb/nats';
import type { SequencedEvent } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { ApiError } from '../api-error';

export interface LiveEventsOptions {
  heartbeatMs: number;
  maxConnections: number;
}

export interface LiveSubscription {
  stop(): Promise<void>;
}

/**
 * Live token events straight from the stream, one gap-free tail (an ephemeral ordered consumer)
 * per client, deleted when the client goes. Bounded in number.
 */
export class LiveEvents {
  private readonly open = new Set<StreamTail>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly logger: Logger,
    readonly options: LiveEventsOptions,
  ) {}

  get active(): number {
    return this.open.size;
  }

  /**
   * Follow `filter` after `afterSeq` (undefined: only new events). `onEvent` gets each token
   * event in stream order; undecodable messages are skipped.
   */
  async subscribe(
    filter: string,
    afterSeq: number | undefined,
    onEvent: (e: SequencedEvent) => void,
  ): Promise<LiveSubscription> {
    if (this.open.size >= this.options.maxConnections) {
      throw new ApiError(
        'TOO_MANY_REQUESTS',
        `the gateway serves at most ${this.options.maxConnections} live event streams; retry later`,
        { retryAfterSeconds: 5 },
      );
    }
    const start: StartAt =
      afterSeq === undefined
        ? { deliver: 'new' }
        : { deliver: 'by_start_sequence', seq: afterSeq + 1 };
    const tail = new StreamTail(this.nc, this.mux, this.naming.stream, filter, {
      start,
      heartbeatMs: Math.min(5000, this.options.heartbeatMs),
      onMessage: (msg) => {
        const decoded = decodeEvent(msg.data);
        if (!decoded.ok || decoded.event.type === 'workflow.defined.v1') return;
        onEvent({ seq: msg.seq, event: decoded.event });
      },
      onError: (err) => this.logger.warn({ err: String(err), filter }, 'live events restarting'),
    });
    this.open.add(tail);
    try {
      await tail.start();
    } catch (err) {
      this.open.delete(tail);
      await tail.stop();
      throw err;
    }
    return {
      stop: async () => {
        this.open.delete(tail);
        await tail.stop();
      },
    };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.open].map((t) => t.stop()));
    this.open.clear();
  }
}
