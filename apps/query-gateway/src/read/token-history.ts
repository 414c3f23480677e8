import { decodeEvent, scanStream } from '@cb/nats';
import type { HistoryPage, SequencedEvent } from '@cb/schemas';
import { ApiError } from '../api-error';
import type { ReadContext } from './context';
import { decodeCursor, encodeCursor } from './cursor';

/** A token's history: its events straight from the stream, paged by seq. */
export class TokenHistory {
  constructor(private readonly ctx: ReadContext) {}

  /** Every event of a token, in stream order, straight from the stream (paged by seq). */
  async history(
    tenant: string,
    workflowId: string,
    tokenId: string,
    limit: number,
    cursor?: string,
  ): Promise<HistoryPage> {
    const listName = `history:${tenant}:${workflowId}:${tokenId}`;
    const after = Number(decodeCursor(listName, cursor, 'seq') ?? 0);
    const { messages, truncated } = await scanStream(
      this.ctx.nc,
      this.ctx.mux,
      this.ctx.naming.stream,
      this.ctx.naming.tokenSubject(tenant, workflowId, tokenId),
      {
        start: after > 0 ? { deliver: 'by_start_sequence', seq: after + 1 } : { deliver: 'all' },
        maxMessages: limit,
        timeoutMs: this.ctx.options.scanTimeoutMs,
      },
    );
    if (messages.length === 0 && after === 0) {
      throw new ApiError(
        'TOKEN_NOT_FOUND',
        `token ${tokenId} has no history in workflow ${workflowId}`,
      );
    }
    const items: SequencedEvent[] = [];
    for (const m of messages) {
      const decoded = decodeEvent(m.data);
      // Garbage on a token subject (dead-lettered by the projections) is not part of its history.
      if (decoded.ok && decoded.event.type !== 'workflow.defined.v1') {
        items.push({ seq: m.seq, event: decoded.event });
      }
    }
    const last = messages.at(-1);
    return {
      items,
      ...(truncated && last ? { nextCursor: encodeCursor(listName, String(last.seq)) } : {}),
    };
  }
}
