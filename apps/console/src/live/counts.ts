import type { SequencedEvent } from '../api';

/**
 * Live token counts per place: a stats read (the counts as of seq `X-As-Of-Seq`) plus the SSE
 * events after it. Events at or below the read's seq are already in it and skipped; those after
 * it are folded, whether they came before the read landed or after, so neither a reconnect nor a
 * lagging read counts a token twice or misses one. Pure: the page keeps the state.
 */
export interface LiveCounts {
  counts: Readonly<Record<string, number>>;
  total: number;
  /** Seq the counts reflect: the read's, then each event folded after it. */
  seq: number;
  /** Whether a read has landed since the last (re)connect; events are only logged until then. */
  ready: boolean;
  /** The recent events seen (bounded, in seq order), replayed over the next read. */
  log: readonly SequencedEvent[];
  /** The highest seq dropped from the log (0 when none). */
  droppedThrough: number;
  /** Set when a read is older than events the log no longer holds: only a new read helps. */
  stale: boolean;
}

export const MAX_LOG = 2_000;

export function emptyCounts(): LiveCounts {
  return { counts: {}, total: 0, seq: 0, ready: false, log: [], droppedThrough: 0, stale: false };
}

function add(counts: Record<string, number>, place: string, by: number): void {
  counts[place] = Math.max(0, (counts[place] ?? 0) + by);
}

/** Apply one event to `counts`; the change of the total. */
function applyOne(counts: Record<string, number>, e: SequencedEvent['event']): number {
  switch (e.type) {
    case 'token.created.v1':
      add(counts, e.place, 1);
      return 1;
    case 'token.transitioned.v1':
      add(counts, e.from, -1);
      add(counts, e.to, 1);
      return 0;
    case 'token.deleted.v1':
      add(counts, e.place, -1);
      return -1;
    default:
      // token.updated moves nothing; a type the console does not know yet changes no count.
      return 0;
  }
}

/** Fold one event (`{ seq, event }` of an SSE frame); a seq seen before is ignored. */
export function foldEvent(state: LiveCounts, ev: SequencedEvent): LiveCounts {
  const lastLogged = state.log.length > 0 ? state.log[state.log.length - 1]!.seq : 0;
  if (ev.seq <= Math.max(lastLogged, state.ready ? state.seq : 0)) return state;
  let log = [...state.log, ev];
  let droppedThrough = state.droppedThrough;
  if (log.length > MAX_LOG) {
    const cut = log.length - MAX_LOG;
    droppedThrough = log[cut - 1]!.seq;
    log = log.slice(cut);
  }
  if (!state.ready) return { ...state, log, droppedThrough };
  const counts = { ...state.counts };
  const delta = applyOne(counts, ev.event);
  return {
    ...state,
    counts,
    total: Math.max(0, state.total + delta),
    seq: ev.seq,
    log,
    droppedThrough,
  };
}

/**
 * Take a stats read (`places` and `totalTokens` as of seq `asOfSeq`) and replay over it every
 * logged event after that seq: the read may be behind the stream (the projection lags), or ahead
 * of the events that came so far.
 */
export function resync(
  state: LiveCounts,
  places: Readonly<Record<string, number>>,
  totalTokens: number,
  asOfSeq: number,
): LiveCounts {
  const counts: Record<string, number> = { ...places };
  let total = totalTokens;
  let seq = asOfSeq;
  for (const ev of state.log) {
    if (ev.seq <= seq) continue;
    total = Math.max(0, total + applyOne(counts, ev.event));
    seq = ev.seq;
  }
  return {
    counts,
    total,
    seq,
    ready: true,
    log: state.log,
    droppedThrough: state.droppedThrough,
    stale: state.droppedThrough > asOfSeq,
  };
}

/** A (re)connect: events are logged, not folded, until the next read. */
export function awaitResync(state: LiveCounts): LiveCounts {
  return { ...state, ready: false };
}

/** The `{ seq, event }` of an SSE frame's data, or undefined when it is not one. */
export function sequencedEventOf(data: string): SequencedEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  const { seq, event } = v as { seq?: unknown; event?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (event === null || typeof event !== 'object') return undefined;
  const type = (event as { type?: unknown }).type;
  if (typeof type !== 'string') return undefined;
  return { seq, event } as SequencedEvent;
}
