import type { GuardRequest, GuardVerdict } from '@cb/domain';
import type { FieldError, TransitionDefinition } from '@cb/schemas';

/** The guards of one definition version, under the key the pool caches them by. */
export interface GuardSet {
  key: string;
  transitions: TransitionDefinition[];
}

/**
 * Main thread → guard worker. `set` is sent when the worker may not have the key compiled.
 * `watchdogMs`: evaluate each guard under a watchdog of this many ms inside the worker, which
 * abandons an overrun without losing the thread (and its compiled guards).
 */
export type ToWorker =
  | { type: 'compile'; job: number; set: GuardSet }
  | {
      type: 'evaluate';
      job: number;
      key: string;
      set?: GuardSet;
      requests: GuardRequest[];
      watchdogMs?: number;
    };

/**
 * Guard worker → main thread. Progress is reported per step (`compiled`, each `verdict`), so the
 * main thread times every step against its own budget and knows which guard overran.
 */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'missing'; job: number }
  | { type: 'compiled'; job: number; errors: FieldError[] }
  | { type: 'verdict'; job: number; index: number; verdict: GuardVerdict }
  | { type: 'overrun'; job: number; index: number }
  | { type: 'done'; job: number };
