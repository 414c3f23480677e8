import type { CbClient, components } from '@cb/client';
import { describe, problem, replyOf } from './gateway';
import { dim, green, heading, red, table } from './output';
import { describeEvent } from './reads';
import { writes, type TokenRun, type Write } from './run';

/** The live tail: a workflow's events over SSE, with one write made while the stream is open. */

const TAIL_MS = 2000;
const TAIL_EVENTS = 12;

type SequencedEvent = components['schemas']['SequencedEvent'];

interface SseEvent {
  id: string;
  event: string;
  data: string;
}

/**
 * Read a workflow's live events (after `since`) for `ms` milliseconds, or until the stream ends;
 * every complete event.
 */
async function readSse(
  client: CbClient,
  workflowId: string,
  since: number,
  ms: number,
  onOpen: () => Promise<void>,
): Promise<{ status: number; events: SseEvent[]; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const events: SseEvent[] = [];
  try {
    const res = await client.GET('/v1/workflows/{workflowId}/events', {
      params: { path: { workflowId }, query: { since } },
      headers: { accept: 'text/event-stream' },
      parseAs: 'stream',
      signal: abort.signal,
    });
    if (res.response.status !== 200 || !res.data) {
      return { status: res.response.status, events, text: replyOf(res).text };
    }
    const opened = onOpen();
    const reader = res.data.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          const e: SseEvent = { id: '', event: 'message', data: '' };
          let has = false;
          for (const line of block.split(/\r?\n/)) {
            if (line.startsWith(':') || line === '') continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const raw = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') e.id = raw;
            else if (field === 'event') e.event = raw;
            else if (field === 'data') {
              e.data = e.data ? `${e.data}\n${raw}` : raw;
              has = true;
            }
          }
          if (has) events.push(e);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    await opened;
    return { status: 200, events, text: '' };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

export async function printTail(client: CbClient, runs: TokenRun[]): Promise<void> {
  const workflowId = runs[0]?.workflowId;
  if (!workflowId) return;
  const mine = writes.filter((w) => w.workflowId === workflowId).sort((a, b) => a.seq - b.seq);
  const since = mine.length > TAIL_EVENTS ? mine[mine.length - TAIL_EVENTS - 1]!.seq : 0;
  heading(`Event tail: ${workflowId}, events after seq ${since}, ${TAIL_MS / 1000} s`);
  const path = `/v1/workflows/${workflowId}/events?since=${since}`;
  const target = runs.find((r) => r.workflowId === workflowId && r.place !== null) ?? runs[0]!;
  let live: Write | undefined;
  const opened = Date.now();
  const { status, events, text } = await readSse(client, workflowId, since, TAIL_MS, async () => {
    // While the stream is open, one more write: it must arrive live.
    await new Promise((r) => setTimeout(r, 300));
    const patchPath = `/v1/workflows/${workflowId}/tokens/${target.tokenId}`;
    const patch = { metadata: { watched: true }, triggeredBy: 'demo' };
    const res = await client.PATCH('/v1/workflows/{workflowId}/tokens/{tokenId}', {
      params: { path: { workflowId, tokenId: target.tokenId } },
      headers: { 'content-type': 'application/merge-patch+json' },
      body: patch,
    });
    if (!res.data) {
      const request = describe('PATCH', patchPath, patch);
      problem('the live write of the tail failed', request, replyOf(res));
      return;
    }
    target.versions.push(res.data.version);
    live = { workflowId, tokenId: target.tokenId, seq: res.data.version, what: 'patch' };
    writes.push(live);
  });
  if (status !== 200) {
    console.log(`  ${red(String(status))} ${text.slice(0, 200)}`);
    problem('the event stream did not open', describe('GET', path), { status, text });
    return;
  }
  const rows: string[][] = [];
  const received = new Set<number>();
  for (const e of events) {
    let parsed: SequencedEvent | undefined;
    try {
      parsed = JSON.parse(e.data) as SequencedEvent;
    } catch {
      problem('an SSE event is not JSON', describe('GET', path), `id: ${e.id} data: ${e.data}`);
      continue;
    }
    received.add(Number(e.id));
    const { change } = describeEvent(parsed.event);
    const isLive = live !== undefined && Number(e.id) === live.seq;
    rows.push([e.id, e.event, parsed.event.tokenId, change, isLive ? green('live') : '']);
    if (String(parsed.seq) !== e.id || parsed.event.type !== e.event) {
      problem(
        `SSE event id/event lines disagree with its data (id ${e.id}, event ${e.event}, data seq ${parsed.seq}, type ${parsed.event.type})`,
        describe('GET', path),
        e.data.slice(0, 300),
      );
    }
  }
  table(['>id', 'event', 'token', 'from → to', ''], rows);
  console.log(
    dim(`  ${events.length} events in ${((Date.now() - opened) / 1000).toFixed(1)} s, then closed`),
  );
  const expected = [...mine.filter((w) => w.seq > since), ...(live ? [live] : [])];
  const missing = expected.filter((w) => !received.has(w.seq));
  if (missing.length > 0) {
    problem(
      `the event stream missed ${missing.length} of this run's events: ${missing
        .map((w) => `${w.seq} (${w.tokenId} ${w.what})`)
        .join(', ')}`,
      describe('GET', path),
      `${events.length} events: ids ${[...received].join(', ')}`,
    );
  }
  const ids = events.map((e) => Number(e.id));
  if (ids.some((id, i) => id <= since || (i > 0 && id <= ids[i - 1]!))) {
    problem(
      'the event stream is not in seq order after `since`',
      describe('GET', path),
      ids.join(', '),
    );
  }
}
