import { diffJson, type Change, type Json } from './json-diff';

/** The parts of a token event (`GET …/history` items) the timeline shows. */
export interface HistoryEvent {
  type: string;
  occurredAt: string;
  principal?: { tenant: string; keyId: string };
  triggeredBy?: string;
  transition?: string;
  from?: string;
  to?: string;
  place?: string;
  dataPatch?: { [key: string]: Json };
  metadataPatch?: { [key: string]: Json };
  state: { place: string; data: { [key: string]: Json }; metadata: { [key: string]: Json } };
}

export interface HistoryItem {
  seq: number;
  event: HistoryEvent;
}

/** One entry of the token's timeline. */
export interface TimelineEntry {
  seq: number;
  at: string;
  /** The authenticated principal (`root`, `system` for timers, or a key id) and the free-form actor. */
  who: string;
  /** "created in draft", "submit: draft → review", "updated", "deleted from review". */
  what: string;
  /** Data and metadata changes against the state before this event (`/data/…`, `/metadata/…`). */
  changes: Change[];
  /** The merge patches the request sent, when it sent some. */
  patch?: { data?: { [key: string]: Json }; metadata?: { [key: string]: Json } };
}

const KIND: Record<string, string> = {
  'token.created.v1': 'created',
  'token.transitioned.v1': 'transitioned',
  'token.updated.v1': 'updated',
  'token.deleted.v1': 'deleted',
};

/**
 * The timeline of a token from its history, oldest first. Each event carries the token's whole
 * state after it, so what changed is the diff with the previous event's state (for the creation:
 * every key it set). A later page of history passes the last state of the page before as
 * `previous`.
 */
export function timeline(
  items: readonly HistoryItem[],
  previous?: HistoryEvent['state'],
): TimelineEntry[] {
  let before = previous;
  return items.map(({ seq, event }) => {
    const state = event.state;
    const changes =
      event.type === 'token.deleted.v1'
        ? []
        : [
            ...diffJson(before?.data ?? {}, state.data, '/data'),
            ...diffJson(before?.metadata ?? {}, state.metadata, '/metadata'),
          ];
    before = state;
    const patch =
      event.dataPatch !== undefined || event.metadataPatch !== undefined
        ? {
            ...(event.dataPatch !== undefined ? { data: event.dataPatch } : {}),
            ...(event.metadataPatch !== undefined ? { metadata: event.metadataPatch } : {}),
          }
        : undefined;
    return {
      seq,
      at: event.occurredAt,
      who: whoOf(event),
      what: whatOf(event),
      changes,
      ...(patch ? { patch } : {}),
    };
  });
}

export function whoOf(event: Pick<HistoryEvent, 'principal' | 'triggeredBy'>): string {
  const principal = event.principal?.keyId ?? 'unknown';
  return event.triggeredBy !== undefined ? `${principal} (${event.triggeredBy})` : principal;
}

function whatOf(event: HistoryEvent): string {
  switch (KIND[event.type]) {
    case 'created':
      return `created in ${event.state.place}`;
    case 'transitioned':
      return `${event.transition ?? '?'}: ${event.from ?? '?'} → ${event.to ?? event.state.place}`;
    case 'updated':
      return 'data/metadata updated';
    case 'deleted':
      return `deleted from ${event.place ?? event.state.place}`;
    default:
      return event.type;
  }
}
