import { type GuardFailure, type JsonObject } from '@cb/schemas';

/** What a guard sees: the token's data and metadata. */
export interface GuardInput {
  data: JsonObject;
  metadata: JsonObject;
}

/** One guard to evaluate: the transition whose guard it is, against this input. */
export interface GuardRequest {
  transition: string;
  input: GuardInput;
}

/** What evaluating a guard found: passed, or its first failures (capped) and their count. */
export type GuardOutcome =
  { status: 'passed' } | { status: 'failed'; failures: GuardFailure[]; failureCount: number };

/**
 * A guard's verdict as a decision sees it: its outcome, or `too-expensive` when it could not be
 * evaluated within the engine's bounds (it ran past the time budget, its transition is
 * quarantined, or — for definitions stored before the limits existed — it breaks a limit).
 */
export type GuardVerdict =
  GuardOutcome | { status: 'too-expensive'; message: string; quarantinedUntil?: string };

/** Transition id → the verdict of its guard, for the guards a decision needs. */
export type GuardVerdicts = ReadonlyMap<string, GuardVerdict>;
