import { toToken } from '@cb/domain';
import { type EventStore, decodeEvent } from '@cb/nats';
import type { Token } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/** Strong reads: the token's last event, straight from the stream (one direct get). */
export class StrongTokenReader {
  constructor(
    private readonly store: EventStore,
    private readonly naming: Naming,
  ) {}

  /** The token, or null if it does not exist, was deleted, or belongs to another workflow. */
  async get(tenant: string, workflowId: string, tokenId: string): Promise<Token | null> {
    const msg = await this.store.last(this.naming.tokenSubject(tenant, workflowId, tokenId));
    if (msg === null) return null;
    const decoded = decodeEvent(msg.data);
    if (decoded.ok) {
      const e = decoded.event;
      if (e.type === 'workflow.defined.v1' || e.type === 'token.deleted.v1') return null;
      return toToken(e.state, msg.seq);
    }
    // Garbage on the subject: the state is that of the last valid event before it.
    let token: Token | null = null;
    for await (const m of this.store.allOnSubject(msg.subject)) {
      const d = decodeEvent(m.data);
      if (!d.ok || d.event.type === 'workflow.defined.v1') continue;
      token = d.event.type === 'token.deleted.v1' ? null : toToken(d.event.state, m.seq);
    }
    return token;
  }
}
