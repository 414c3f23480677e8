import { createHash } from 'node:crypto';
import type { BulkFireError } from '@cb/schemas';
import { ApiError } from '../api-error';
import type { Kind } from './candidates';

/** Command timeouts after which a request stops firing (the command service is struggling). */
const MAX_TIMEOUTS = 3;

/** What became of one token: fired (or replayed), failed with a code, or not this key's. */
export type Outcome =
  | { ok: true; version: number; duplicate: boolean }
  | { ok: false; code: BulkFireError['code']; message: string }
  | { skip: true };

export interface FireRun {
  /** By the batch's index; undefined: not attempted (the run stopped first). */
  outcomes: Array<Outcome | undefined>;
  /** Why the run stopped early (NATS or the command service unavailable, repeated timeouts). */
  stop: ApiError | undefined;
  timeouts: number;
}

export interface FirePoolOptions {
  batch: readonly string[];
  kinds: ReadonlyMap<string, Kind>;
  /** Fires in flight at once. */
  concurrency: number;
  /** Fire one token: its new version, or the ApiError its fire route would answer. */
  fire: (tokenId: string, kind: Kind) => Promise<{ version: number; duplicate: boolean }>;
  /** True once the client went away: no answer is awaited, so stop firing. */
  aborted: () => boolean;
  /** An error that is no ApiError (logged by the caller; the token reports INTERNAL_ERROR). */
  unexpected: (err: unknown, tokenId: string) => void;
}

/** Fire the batch, `concurrency` at a time, until done, stopped or aborted. */
export async function runFirePool(o: FirePoolOptions): Promise<FireRun> {
  const run: FireRun = { outcomes: new Array(o.batch.length), stop: undefined, timeouts: 0 };
  const fireOne = async (tokenId: string, kind: Kind): Promise<Outcome> => {
    try {
      const { version, duplicate } = await o.fire(tokenId, kind);
      return { ok: true, version, duplicate };
    } catch (err) {
      if (!(err instanceof ApiError)) {
        o.unexpected(err, tokenId);
        return { ok: false, code: 'INTERNAL_ERROR', message: 'unexpected error; it was logged' };
      }
      if (err.code === 'SERVICE_UNAVAILABLE' || err.code === 'COMMAND_SERVICE_UNAVAILABLE') {
        run.stop ??= err;
      } else if (err.code === 'COMMAND_TIMEOUT' && ++run.timeouts >= MAX_TIMEOUTS) {
        run.stop ??= err;
      }
      // A replay candidate this key did not fire is not part of this request.
      if (kind === 'replay' && err.code !== 'IDEMPOTENCY_KEY_REUSED') return { skip: true };
      return { ok: false, code: err.code, message: err.message };
    }
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (run.stop === undefined && !o.aborted() && next < o.batch.length) {
      const i = next++;
      const tokenId = o.batch[i]!;
      run.outcomes[i] = await fireOne(tokenId, o.kinds.get(tokenId)!);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, o.concurrency), o.batch.length) }, worker),
  );
  return run;
}

/** The per-token Idempotency-Key: a digest of the request's key and the token id. */
export function tokenKey(key: string, tokenId: string): string {
  return `bf-${createHash('sha256').update(`bulk-fire\u0000${key}\u0000${tokenId}`).digest('base64url')}`;
}
