import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

export type NatsErrorCode =
  | 'WRONG_LAST_SEQUENCE'
  | 'STREAM_NOT_FOUND'
  | 'NO_MESSAGE'
  | 'NO_RESPONDERS'
  | 'TIMEOUT'
  | 'MAX_PAYLOAD'
  | 'STREAM_DRIFT'
  | 'STREAM_LAYOUT_OUTDATED'
  | 'STREAM_MIGRATION_IN_PROGRESS'
  | 'PARTITIONS_MISMATCH'
  | 'CONNECTION'
  | 'NOT_PERMITTED'
  | 'JETSTREAM';

/** A NATS/JetStream failure with a stable code; the original error is the `cause`. */
export class NatsPlatformError extends Error {
  constructor(
    readonly code: NatsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NatsPlatformError';
  }
}

/** JetStream API error codes this code base branches on (numeric, never message text). */
export const JS_ERR = {
  wrongLastSequence: JetStreamApiCodes.StreamWrongLastSequence, // 10071
  streamNotFound: JetStreamApiCodes.StreamNotFound, // 10059
  noMessageFound: JetStreamApiCodes.NoMessageFound, // 10037
  // Answers of a cluster between leaders or short of resources (nats-server's error table; on
  // 2.9.10 an election or a lost quorum mostly shows as no responders or no answer at all).
  clusterNotAvailable: 10008, // JetStream system temporarily unavailable
  clusterNotLeader: 10009, // JetStream cluster can not handle request
  insufficientResources: 10023, // insufficient resources
  memoryExceeded: 10028, // insufficient memory resources available
  storageExceeded: 10047, // insufficient storage resources available
  streamOffline: 10118, // stream is offline
  consumerOffline: 10119, // consumer is offline
} as const;

/** Map any error thrown by the NATS client to a coded NatsPlatformError. */
export function classifyNatsError(err: unknown): NatsPlatformError {
  if (err instanceof NatsPlatformError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof JetStreamApiError) {
    switch (err.code) {
      case JS_ERR.wrongLastSequence:
        return new NatsPlatformError('WRONG_LAST_SEQUENCE', message, { cause: err });
      case JS_ERR.streamNotFound:
        return new NatsPlatformError('STREAM_NOT_FOUND', message, { cause: err });
      case JS_ERR.noMessageFound:
        return new NatsPlatformError('NO_MESSAGE', message, { cause: err });
      default:
        return new NatsPlatformError('JETSTREAM', message, { cause: err });
    }
  }
  if (err instanceof NoRespondersError || (err instanceof RequestError && err.isNoResponders())) {
    return new NatsPlatformError('NO_RESPONDERS', message, { cause: err });
  }
  if (
    err instanceof TimeoutError ||
    (err instanceof RequestError && err.cause instanceof TimeoutError)
  ) {
    return new NatsPlatformError('TIMEOUT', message, { cause: err });
  }
  if (err instanceof Error && err.name.endsWith('ConnectionError')) {
    return new NatsPlatformError('CONNECTION', message, { cause: err });
  }
  return new NatsPlatformError('JETSTREAM', message, { cause: err });
}
