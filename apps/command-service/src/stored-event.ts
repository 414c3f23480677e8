import { CbHeaders, decodeEvent, type LastValidEvent, type StoredMessage } from '@cb/nats';
import type { CbEvent } from '@cb/schemas';

/** One message of the stream, decoded, with the headers the command service cares about. */
export interface StoredEvent {
  seq: number;
  event: CbEvent | null;
  /** Why `event` is null (garbage on the subject). */
  invalidReason?: string;
  msgId?: string;
  commandHash?: string;
}

/** The last message of a subject as `lastValidEvent` found it (decoded once, not again). */
export function lastStoredEvent(
  found: LastValidEvent<CbEvent> & { last: StoredMessage },
): StoredEvent {
  return toStoredEvent(
    found.last,
    found.skipped === undefined && found.event !== null
      ? { ok: true, event: found.event }
      : { ok: false, reason: found.skipped ?? 'no event' },
  );
}

export function toStoredEvent(
  msg: StoredMessage,
  decoded: { ok: true; event: CbEvent } | { ok: false; reason: string } = decodeEvent(msg.data),
): StoredEvent {
  const msgId = msg.header?.get(CbHeaders.msgId) || undefined;
  const commandHash = msg.header?.get(CbHeaders.commandHash) || undefined;
  return {
    seq: msg.seq,
    event: decoded.ok ? decoded.event : null,
    ...(decoded.ok ? {} : { invalidReason: decoded.reason }),
    ...(msgId ? { msgId } : {}),
    ...(commandHash ? { commandHash } : {}),
  };
}
