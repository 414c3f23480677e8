import type { CbEvent, TokenEvent, WorkflowDefined } from '@cb/schemas';
import { decodeEvent } from './event-codec';
import type { EventStore } from './event-store';
import type { StoredMessage } from './js-wire';

/** What a subject holds at its end: its last message, and the last valid event of a kind. */
export interface LastValidEvent<E extends CbEvent> {
  /** The last message on the subject, whatever it holds (null: the subject has none). */
  last: StoredMessage | null;
  /**
   * Why the last message is not the event (not an event at all, or an event of another kind);
   * undefined when it is. The event was then found by reading the subject's messages in order.
   */
  skipped?: string;
  /** The last message on the subject that holds an event of the kind (null: none does). */
  message: StoredMessage | null;
  event: E | null;
}

/** Is a token event (anything but a definition), the only kind a token subject may hold. */
export function isTokenEvent(event: CbEvent): event is TokenEvent {
  return event.type !== 'workflow.defined.v1';
}

/** Is a definition, the only kind a workflow subject may hold. */
export function isDefinitionEvent(event: CbEvent): event is WorkflowDefined {
  return event.type === 'workflow.defined.v1';
}

/**
 * Every message on the subject that holds a valid event of the kind `accept` takes, in stream
 * order (one direct get each: for short histories and the rare subject with garbage on it).
 */
export async function* validEventsOn<E extends CbEvent>(
  store: EventStore,
  subject: string,
  accept: (event: CbEvent) => event is E,
): AsyncGenerator<{ message: StoredMessage; event: E }> {
  for await (const message of store.allOnSubject(subject)) {
    const decoded = decodeEvent(message.data);
    if (decoded.ok && accept(decoded.event)) yield { message, event: decoded.event };
  }
}

/**
 * The last valid event of a kind on a subject, with one direct get when the subject's last
 * message is one (every event carries the whole state after it, so that is the current state).
 * Anything else at the end (garbage published by a misbehaving client, an event of another kind)
 * is passed over: the subject's messages are read in order for the last one that is.
 */
export async function lastValidEvent<E extends CbEvent>(
  store: EventStore,
  subject: string,
  accept: (event: CbEvent) => event is E,
): Promise<LastValidEvent<E>> {
  const last = await store.last(subject);
  if (last === null) return { last, message: null, event: null };
  const decoded = decodeEvent(last.data);
  if (decoded.ok && accept(decoded.event)) return { last, message: last, event: decoded.event };
  const skipped = decoded.ok ? `a ${decoded.event.type} event` : decoded.reason;
  let found: { message: StoredMessage; event: E } | null = null;
  for await (const valid of validEventsOn(store, last.subject, accept)) found = valid;
  return { last, skipped, message: found?.message ?? null, event: found?.event ?? null };
}
