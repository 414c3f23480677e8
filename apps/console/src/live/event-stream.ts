import { authHeaders, problemOf, unauthenticated, type ApiProblem } from '../api';
import { SseParser, type SseFrame } from './sse-parser';

/**
 * A live SSE route (`/v1/workflows/:wf/events`, the token events route) read with `fetch`
 * streaming, because EventSource cannot send the Authorization header. It reconnects on a drop
 * or a `cutoff` with `Last-Event-ID`, so no event is missed or seen twice, backing off up to
 * MAX_BACKOFF_MS; it stops for good on abort, on a 401 (sign-in) and on other 4xx answers
 * (shown through onProblem). `onOpen` runs at every (re)connect: the time to resync from a read.
 */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface EventStreamOptions {
  path: string;
  signal: AbortSignal;
  /** Resume after this id (a seq); without it only new events come. */
  lastEventId?: string;
  onFrame: (frame: SseFrame) => void;
  onOpen?: () => void;
  onStatus?: (status: StreamStatus) => void;
  onProblem?: (problem: ApiProblem) => void;
}

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 15_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Runs until `signal` aborts or the server refuses for good. */
export async function runEventStream(o: EventStreamOptions): Promise<void> {
  let lastId = o.lastEventId;
  let backoff = MIN_BACKOFF_MS;
  let first = true;
  while (!o.signal.aborted) {
    o.onStatus?.(first ? 'connecting' : 'reconnecting');
    first = false;
    let retryNow = false;
    try {
      const res = await fetch(o.path, {
        headers: {
          accept: 'text/event-stream',
          ...authHeaders(),
          ...(lastId !== undefined ? { 'last-event-id': lastId } : {}),
        },
        signal: o.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const problem = problemOf(res.status, res.statusText, body);
        if (res.status === 401) {
          unauthenticated();
          break;
        }
        if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408) {
          o.onProblem?.(problem);
          break;
        }
        o.onProblem?.(problem);
      } else {
        backoff = MIN_BACKOFF_MS;
        o.onStatus?.('live');
        o.onOpen?.();
        const parser = new SseParser(lastId);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          for (const frame of parser.push(value)) {
            if (frame.event === 'cutoff') {
              // The server dropped us for being slow: resume at once after its last event id.
              const d = safeJson(frame.data) as { lastEventId?: unknown } | undefined;
              if (d && (typeof d.lastEventId === 'string' || typeof d.lastEventId === 'number')) {
                lastId = String(d.lastEventId);
              } else lastId = frame.id ?? lastId;
              retryNow = true;
              continue;
            }
            lastId = frame.id ?? lastId;
            o.onFrame(frame);
          }
          if (retryNow) {
            await reader.cancel().catch(() => undefined);
            break;
          }
        }
        if (parser.retryMs !== undefined) backoff = Math.min(parser.retryMs, MAX_BACKOFF_MS);
      }
    } catch {
      if (o.signal.aborted) break;
    }
    if (o.signal.aborted) break;
    if (!retryNow) {
      await sleep(backoff, o.signal);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
  o.onStatus?.('stopped');
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
