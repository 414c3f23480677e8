import { toToken } from '@cb/domain';
import type { CbEvent, CommandReply, ErrorBody, ErrorCode } from '@cb/schemas';

export function failure(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): CommandReply {
  const error: ErrorBody = details === undefined ? { code, message } : { code, message, details };
  return { ok: false, error };
}

/** The reply a command gets for the event it produced (or produced before, for a retry). */
export function replyFromEvent(event: CbEvent, seq: number, duplicate: boolean): CommandReply {
  switch (event.type) {
    case 'workflow.defined.v1':
      return {
        ok: true,
        kind: 'workflow',
        workflow: { ...event.definition, analysis: event.analysis, seq },
        duplicate,
      };
    case 'token.created.v1':
    case 'token.transitioned.v1':
    case 'token.updated.v1':
    case 'token.deleted.v1':
      return {
        ok: true,
        kind: 'token',
        token: toToken(event.state, seq),
        duplicate,
        deleted: event.type === 'token.deleted.v1',
      };
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled event ${JSON.stringify(unhandled)}`);
    }
  }
}

/**
 * A command this instance cannot run because it does not own the partition now (a hand-over):
 * nothing was written, and the gateway sends it again — to the new owner.
 */
export function notOwner(what: string): CommandReply {
  return failure(
    'COMMAND_SERVICE_UNAVAILABLE',
    `this command service instance does not own ${what} now; nothing was written — retry`,
    { notOwner: true, retryAfterSeconds: 1 },
  );
}
