import type { MsgHdrs } from '@nats-io/transport-node';
import type { CommandReply } from '@cb/schemas';
import { decodeJson } from './codec';
import { classifyNatsError } from './errors';
import type { RequestMux } from './request-mux';

/** What a command request came to: the owner's reply, or nobody owning the partition in time. */
export type CommandRequestOutcome =
  | { kind: 'reply'; reply: CommandReply }
  /** The last attempt's refusal by an instance letting the partition go (nothing written). */
  | { kind: 'not-owner'; reply: CommandReply }
  /** Nobody subscribed to the partition's commands until the timeout (nothing written). */
  | { kind: 'no-responders' }
  /** The answer was not a command reply. */
  | { kind: 'unreadable' };

/**
 * Send a command to the instance that owns its partition (or the definitions). While the
 * partition changes owner (no responders, or the old owner answering `notOwner`) it is sent again,
 * with back-off from 25 ms doubling to 500 ms, until `timeoutMs` — such a refusal means nothing
 * was written. Any other failure (a timeout: the write may have happened; NATS unavailable) is
 * thrown as it came, for the caller to classify (`classifyNatsError`).
 */
export async function requestCommand(
  mux: RequestMux,
  subject: string,
  payload: Uint8Array,
  timeoutMs: number,
  headers?: MsgHdrs,
): Promise<CommandRequestOutcome> {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const left = Math.max(1, deadline - performance.now());
    let outcome: CommandRequestOutcome;
    try {
      const reply = decodeJson((await mux.request(subject, payload, left, headers)).data) as
        CommandReply | undefined;
      if (reply === undefined || typeof reply !== 'object' || typeof reply.ok !== 'boolean') {
        return { kind: 'unreadable' };
      }
      const notOwner = !reply.ok && reply.error.details?.['notOwner'] === true;
      if (!notOwner) return { kind: 'reply', reply };
      outcome = { kind: 'not-owner', reply };
    } catch (err) {
      if (classifyNatsError(err).code !== 'NO_RESPONDERS') throw err;
      outcome = { kind: 'no-responders' };
    }
    const pause = Math.min(500, 25 * 2 ** attempt);
    if (deadline - performance.now() <= pause) return outcome;
    await new Promise((r) => setTimeout(r, pause));
  }
}
