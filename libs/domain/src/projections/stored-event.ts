import { type TokenEvent } from '@cb/schemas';

/** A token event with the stream sequence it was stored at (its version). */
export interface StoredTokenEvent {
  seq: number;
  event: TokenEvent;
}

/**
 * The events sorted by seq (a stable copy). Callers pass stream order; sorting makes a batch that
 * mixes redeliveries with new messages safe as well.
 */
export function inSeqOrder<E extends { seq: number }>(events: readonly E[]): E[] {
  return [...events].sort((a, b) => a.seq - b.seq);
}
