import { type TokenDoc, type TokenEvent } from '@cb/schemas';
import { toToken } from '../decider';

/** The document a token event leaves: its state at `seq`, or a tombstone for a deletion. */
export function toTokenDoc(event: TokenEvent, seq: number): TokenDoc {
  const token = toToken(event.state, seq);
  return event.type === 'token.deleted.v1'
    ? { ...token, deleted: true, deletedAt: event.occurredAt }
    : token;
}
