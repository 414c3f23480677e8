import { toToken } from '@cb/domain';
import { type EventStore, isTokenEvent, lastValidEvent } from '@cb/nats';
import type { Token } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/** Strong reads: the token's last event, straight from the stream (asked of its leader). */
export class StrongTokenReader {
  constructor(
    private readonly store: EventStore,
    private readonly naming: Naming,
  ) {}

  /** The token, or null if it does not exist, was deleted, or belongs to another workflow. */
  async get(tenant: string, workflowId: string, tokenId: string): Promise<Token | null> {
    const subject = this.naming.tokenSubject(tenant, workflowId, tokenId);
    // Garbage on the subject: the state is that of the last valid event before it.
    const { event, message } = await lastValidEvent(this.store, subject, isTokenEvent);
    if (event === null || message === null || event.type === 'token.deleted.v1') return null;
    return toToken(event.state, message.seq);
  }
}
