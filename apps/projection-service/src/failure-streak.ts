import { describeFailure, type FailureKind } from './failures';

/** Pause after the first failed attempt; it doubles with each further one, up to the maximum. */
export const RETRY_MIN_MS = 250;
export const RETRY_MAX_MS = 10_000;
/** While failing, a partition logs at most this often. */
export const LOG_EVERY_MS = 5_000;

export interface FailureState {
  /** When the first failed attempt of the streak ended (ms since the epoch). */
  since: number;
  attempts: number;
  /** The kind of the last failure. */
  kind: FailureKind;
  lastError: { code: string; message: string };
}

/**
 * The current run of failed attempts of one partition: since when, how many, the last error; the
 * pause before the next attempt; whether to log it. Ends with the first attempt that succeeds.
 */
export class FailureStreak {
  private state: FailureState | null = null;
  private loggedAt = 0;

  get current(): Readonly<FailureState> | null {
    return this.state;
  }

  /** Record a failed attempt: the pause before the next one, and whether to log this one. */
  fail(err: unknown, kind: FailureKind, now: number): { delayMs: number; log: boolean } {
    const state = this.state ?? { since: now, attempts: 0, kind, lastError: describeFailure(err) };
    state.attempts++;
    state.kind = kind;
    state.lastError = describeFailure(err);
    this.state = state;
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(state.attempts - 1, 20));
    const log = state.attempts === 1 || now - this.loggedAt >= LOG_EVERY_MS;
    if (log) this.loggedAt = now;
    return { delayMs, log };
  }

  /** An attempt succeeded: the streak that ended (null when there was none). */
  end(): FailureState | null {
    const ended = this.state;
    this.state = null;
    return ended;
  }
}
