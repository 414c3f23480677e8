import { type PlaceEntry, type TokenDoc, type TokenEvent } from '@cb/schemas';
import { toToken } from '../decider';
import { inSeqOrder, type StoredTokenEvent } from './stored-event';
import { toTokenDoc } from './token-doc';

/** The read-model writes for one token after a batch of its events. */
export interface TokenWritePlan {
  /** The document to write, or null when nothing changes. */
  doc: TokenDoc | null;
  /** Places whose index entry for this token must go: no duplicates, never the final live place. */
  placeDeletes: string[];
  /** The entry for the final live place; null if the token is deleted or nothing changes. */
  placePut: PlaceEntry | null;
  /** Events newer than the current document. */
  applied: number;
  /** Events at or before the current document's version (duplicates, stale redeliveries). */
  skipped: number;
}

/**
 * Plan the writes for one token given its current doc (null if none) and a batch of its events in
 * stream order. Older events than the doc are skipped. The event the doc was made from (seq equal
 * to its version) is skipped too, but its place operations are issued again: a crash may have
 * come between writing the doc and the place index, and both operations are idempotent. That
 * recovers the last event's place operations only, so writers should still write the place index
 * first and the doc last (the doc is the commit marker).
 */
export function planTokenWrites(
  current: TokenDoc | null,
  events: StoredTokenEvent[],
): TokenWritePlan {
  let version = current?.version ?? 0;
  const visited: string[] = current !== null && current.deleted !== true ? [current.place] : [];
  let last: StoredTokenEvent | null = null;
  let applied = 0;
  let skipped = 0;

  for (const stored of inSeqOrder(events)) {
    assertSameToken(current?.id ?? events[0]?.event.tokenId, stored.event);
    if (stored.seq <= version) {
      skipped++;
      if (stored.seq < version) continue;
    } else {
      applied++;
      version = stored.seq;
    }
    visited.push(...placesOf(stored.event));
    last = stored;
  }

  if (last === null) return { doc: null, placeDeletes: [], placePut: null, applied, skipped };
  const { seq, event } = last;
  const placePut = event.type === 'token.deleted.v1' ? null : toToken(event.state, seq);
  return {
    doc: applied > 0 ? toTokenDoc(event, seq) : null,
    placeDeletes: [...new Set(visited)].filter((place) => place !== placePut?.place),
    placePut,
    applied,
    skipped,
  };
}

/** Every place the event shows the token in, before or after it. */
function placesOf(event: TokenEvent): string[] {
  switch (event.type) {
    case 'token.created.v1':
    case 'token.updated.v1':
      return [event.state.place];
    case 'token.transitioned.v1':
      return [event.from, event.to];
    case 'token.deleted.v1':
      return [event.place];
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled token event ${JSON.stringify(unhandled)}`);
    }
  }
}

/** A plan is for one token; mixing tokens is a caller bug that would corrupt the index. */
function assertSameToken(tokenId: string | undefined, event: TokenEvent): void {
  if (tokenId !== undefined && event.tokenId !== tokenId) {
    throw new RangeError(
      `planTokenWrites: event of token "${event.tokenId}" in a batch of "${tokenId}"`,
    );
  }
}
