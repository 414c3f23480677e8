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
  | 'PARTITIONS_MISMATCH'
  | 'CONNECTION'
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
