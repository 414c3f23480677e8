import { CbHeaders, decodeEvent, type StoredMessage } from '@cb/nats';
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

export function toStoredEvent(msg: StoredMessage): StoredEvent {
  const decoded = decodeEvent(msg.data);
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
