import type { BulkFireError, BulkFireResult } from '@cb/schemas';
import type { Kind } from './candidates';
import type { FireRun } from './fire-pool';

/**
 * The answer to a bulk fire: counts, the tokens that moved, each failure with its code. When the
 * run stopped before writing anything, its error is thrown instead (the whole request can be
 * retried as it is).
 */
export function bulkFireReport(
  batch: readonly string[],
  kinds: ReadonlyMap<string, Kind>,
  run: FireRun,
  nextCursor: string | undefined,
): BulkFireResult {
  const { outcomes, stop } = run;
  const succeededIds: string[] = [];
  const errors: BulkFireError[] = [];
  let replayed = 0;
  let fresh = 0;
  let version: number | undefined;
  batch.forEach((tokenId, i) => {
    const outcome = outcomes[i];
    if (outcome === undefined) {
      // Not attempted: the request stopped (NATS or the command service unavailable).
      if (stop !== undefined && kinds.get(tokenId) === 'fire') {
        errors.push({
          tokenId,
          code: stop.code,
          message: `not attempted after an earlier failure: ${stop.message}`,
        });
      }
    } else if ('skip' in outcome) {
      // A token this key did not fire earlier.
    } else if (outcome.ok) {
      succeededIds.push(tokenId);
      if (outcome.duplicate) replayed++;
      else fresh++;
      version = Math.max(version ?? 0, outcome.version);
    } else {
      errors.push({ tokenId, code: outcome.code, message: outcome.message });
    }
  });
  if (stop !== undefined && fresh === 0 && run.timeouts === 0) {
    // Nothing was written: the whole request can be retried as it is.
    throw stop;
  }
  return {
    matched: succeededIds.length + errors.length,
    succeeded: succeededIds.length,
    failed: errors.length,
    replayed,
    succeededIds,
    errors,
    ...(version !== undefined ? { version } : {}),
    truncated: nextCursor !== undefined,
    ...(nextCursor !== undefined ? { nextCursor } : {}),
  };
}
