import { NatsPlatformError, isNatsOutage } from '@cb/nats';

/**
 * Why applying a batch failed, for every applier and the runner alike:
 * - `transient`: nothing about the events — NATS unreachable, no answer in time, no responders
 *   (a stream electing a leader), no quorum, resources exhausted, or compare-and-set churn (a
 *   key kept moving under us). Retried with back-off for as long as it lasts; never counts
 *   towards PROJECTION_MAX_ATTEMPTS.
 * - `deterministic`: anything else (a bug, a value the read model cannot hold, a request the
 *   server refuses): the same event fails the same way every time, so after
 *   PROJECTION_MAX_ATTEMPTS such failures it is dead-lettered.
 * Batches that wait for an earlier event (NotYetError) are neither: they are not failures.
 */
export type FailureKind = 'transient' | 'deterministic';

export function failureKind(err: unknown): FailureKind {
  return isNatsOutage(err) || isConflict(err) ? 'transient' : 'deterministic';
}

/** A compare-and-set lost to another write (JetStream's 10071 wrong last sequence). */
export function isConflict(err: unknown): boolean {
  return err instanceof NatsPlatformError && err.code === 'WRONG_LAST_SEQUENCE';
}

/** A failure as logs and dead-letter reasons show it: its stable code and its message. */
export function describeFailure(err: unknown): { code: string; message: string } {
  if (err instanceof NatsPlatformError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: 'UNKNOWN', message: String(err) };
}
