import { classifyNatsError, decodeJson, encodeJson, type RequestMux } from '@cb/nats';
import {
  commandKindOf,
  type CommandReply,
  type CommandRequest,
  type FireTransition,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/** What became of one fire: written (or written before), refused with a code, or not sent. */
export type FireOutcome =
  | { kind: 'fired' }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'unavailable'; message: string };

/**
 * Sends FireTransition commands to the command service instance that owns the token's partition,
 * as the gateway's command client does: while the partition changes owner (no responders, or a
 * `notOwner` refusal) the command is sent again with back-off until the timeout — such a refusal
 * means nothing was written. A timeout may have written: the caller retries with the same
 * idempotency key.
 */
export class FireClient {
  constructor(
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly timeoutMs: number,
  ) {}

  async fire(request: CommandRequest & { command: FireTransition }): Promise<FireOutcome> {
    const subject = this.naming.tokenCommandSubject(
      this.naming.tokenPartition(request.command.tokenId),
      commandKindOf(request.command.type),
    );
    const payload = encodeJson(request);
    const deadline = performance.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const left = Math.max(1, deadline - performance.now());
      let reply: CommandReply | undefined;
      let handingOver = false;
      try {
        const msg = await this.mux.request(subject, payload, left);
        reply = decodeJson(msg.data) as CommandReply | undefined;
        handingOver = reply?.ok === false && reply.error.details?.['notOwner'] === true;
      } catch (err) {
        const e = classifyNatsError(err);
        if (e.code !== 'NO_RESPONDERS') return { kind: 'unavailable', message: e.message };
        handingOver = true;
      }
      if (!handingOver) {
        if (reply === undefined || typeof reply !== 'object' || typeof reply.ok !== 'boolean') {
          return { kind: 'unavailable', message: 'unreadable reply from the command service' };
        }
        return reply.ok
          ? { kind: 'fired' }
          : { kind: 'refused', code: reply.error.code, message: reply.error.message };
      }
      const pause = Math.min(500, 25 * 2 ** attempt);
      if (deadline - performance.now() <= pause) {
        return { kind: 'unavailable', message: 'no command service took the partition in time' };
      }
      await new Promise((r) => setTimeout(r, pause));
    }
  }
}
