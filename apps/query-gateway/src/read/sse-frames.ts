import type { SequencedEvent } from '@cb/schemas';

/** One serialised live event: built once per hub and shared by every client it reaches. */
export interface LiveFrame {
  readonly seq: number;
  readonly bytes: Buffer;
  /** The decoded event, for clients that are not SSE (GraphQL subscriptions map it themselves). */
  readonly event: SequencedEvent['event'];
}

/**
 * Why the gateway ended a stream with a final `cutoff` event: the client fell further behind
 * than its buffer allows, the gateway is shutting down, or the stream could not be read.
 */
export type CutoffReason = 'slow-client' | 'shutdown' | 'unavailable';

export const CUTOFF_REASONS: readonly CutoffReason[] = ['slow-client', 'shutdown', 'unavailable'];

/** Reconnection delay suggested to EventSource clients. */
export const RETRY_MS = 2000;

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
} as const;

/** `id` = stream seq, `event` = event type, `data` = `{ seq, event }`. */
export function eventFrame(e: SequencedEvent): LiveFrame {
  return {
    seq: e.seq,
    event: e.event,
    bytes: Buffer.from(`id: ${e.seq}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e)}\n\n`),
  };
}

export function preambleFrame(filter: string, afterSeq: number | undefined): Buffer {
  return Buffer.from(
    `retry: ${RETRY_MS}\n: streaming ${filter} after seq ${afterSeq ?? 'now'}\n\n`,
  );
}

export function heartbeatFrame(now: number): Buffer {
  return Buffer.from(`: heartbeat ${now}\n\n`);
}

/**
 * The last message of a stream the gateway ends. Its `id` is the last event id the client was
 * sent (or its resume point), so an EventSource reconnects right after it with no gap.
 */
export function cutoffFrame(reason: CutoffReason, lastEventId: number): Buffer {
  const data = JSON.stringify({ reason, lastEventId });
  return Buffer.from(`id: ${lastEventId}\nevent: cutoff\ndata: ${data}\n\n`);
}
