import { classifyNatsError, encodeJson, requestCommand, type RequestMux } from '@cb/nats';
import { commandKindOf, type CommandRequest, type FireTransition } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/** What became of one fire: written (or written before), refused with a code, or not sent. */
export type FireOutcome =
  | { kind: 'fired' }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'unavailable'; message: string };

/**
 * Sends FireTransition commands to the command service instance that owns the token's partition,
 * as the gateway does (`requestCommand`: sent again while the partition changes owner). A timeout
 * may have written: the caller tries again with the same idempotency key.
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
    try {
      const outcome = await requestCommand(this.mux, subject, encodeJson(request), this.timeoutMs);
      switch (outcome.kind) {
        case 'reply':
          return outcome.reply.ok
            ? { kind: 'fired' }
            : {
                kind: 'refused',
                code: outcome.reply.error.code,
                message: outcome.reply.error.message,
              };
        case 'not-owner':
        case 'no-responders':
          return { kind: 'unavailable', message: 'no command service took the partition in time' };
        case 'unreadable':
          return { kind: 'unavailable', message: 'unreadable reply from the command service' };
        default: {
          const unhandled: never = outcome;
          throw new Error(`unhandled outcome ${JSON.stringify(unhandled)}`);
        }
      }
    } catch (err) {
      return { kind: 'unavailable', message: classifyNatsError(err).message };
    }
  }
}
