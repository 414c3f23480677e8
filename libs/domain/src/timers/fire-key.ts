import { assertSubjectSafeId, assertTenant } from '@cb/subjects';

/**
 * The idempotency key of a timer's fire: the same for every attempt at one timer, different for
 * every other, so a fire retried after a crash or by a second worker is written at most once.
 * `=` separates the parts: no tenant or id contains it, so the key is unambiguous, and it stays
 * within the characters of a subject token and a KV key (at most 185 characters, well inside an
 * `Idempotency-Key`).
 */
export function timerFireKey(
  tenant: string,
  tokenId: string,
  armedBy: number,
  transition: string,
): string {
  assertTenant(tenant);
  assertSubjectSafeId('token id', tokenId);
  assertSubjectSafeId('transition id', transition);
  if (!Number.isSafeInteger(armedBy) || armedBy < 1) {
    throw new RangeError(`armedBy must be a stream sequence, got ${String(armedBy)}`);
  }
  return `timer=${tenant}=${tokenId}=${armedBy}=${transition}`;
}
