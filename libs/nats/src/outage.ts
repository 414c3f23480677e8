import { JetStreamApiError, JetStreamError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { JS_ERR, NatsPlatformError, classifyNatsError } from './errors';

/** JetStream error codes that mean "not now": a cluster between leaders, or short of resources. */
const OUTAGE_ERR_CODES: ReadonlySet<number> = new Set([
  JS_ERR.clusterNotAvailable,
  JS_ERR.clusterNotLeader,
  JS_ERR.insufficientResources,
  JS_ERR.memoryExceeded,
  JS_ERR.storageExceeded,
  JS_ERR.streamOffline,
  JS_ERR.consumerOffline,
]);

/** The status JetStream answers with when it cannot serve a request now (no leader, not ready). */
const SERVICE_UNAVAILABLE = 503;

const NATS_ERROR_CLASSES: ReadonlyArray<abstract new (...args: never[]) => Error> = [
  NatsPlatformError,
  JetStreamApiError,
  JetStreamError,
  ...Object.values(natsErrors),
];

/**
 * Whether `err` says that NATS could not serve the request now, rather than anything about the
 * request: the server unreachable, no answer in time, nobody listening on the subject (a stream
 * without a leader), no quorum, resources exhausted. The same request may succeed unchanged
 * later. Errors that do not come from NATS (a bug, a value that cannot be encoded) never are.
 */
export function isNatsOutage(err: unknown): boolean {
  if (!NATS_ERROR_CLASSES.some((c) => err instanceof c)) return false;
  const e = classifyNatsError(err);
  switch (e.code) {
    case 'NO_RESPONDERS':
    case 'TIMEOUT':
    case 'CONNECTION':
      return true;
    case 'JETSTREAM': {
      const { errCode, status } = jetStreamCodesOf(e.cause);
      return (
        (errCode !== undefined && OUTAGE_ERR_CODES.has(errCode)) || status === SERVICE_UNAVAILABLE
      );
    }
    default:
      return false;
  }
}

/**
 * JetStream's numbers in a failure's cause: `errCode` (e.g. 10008) and the HTTP-like `status`,
 * from an API error of the client, a status message, or an error answer read off the wire.
 */
export function jetStreamCodesOf(cause: unknown): { errCode?: number; status?: number } {
  if (cause instanceof JetStreamApiError) return { errCode: cause.code, status: cause.status };
  if (cause === null || typeof cause !== 'object') return {};
  const { code, err_code: errCode } = cause as { code?: unknown; err_code?: unknown };
  return {
    ...(typeof errCode === 'number' ? { errCode } : {}),
    ...(typeof code === 'number' ? { status: code } : {}),
  };
}
