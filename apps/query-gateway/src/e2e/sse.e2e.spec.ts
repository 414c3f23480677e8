import { waitFor } from '@cb/testing';
import { startE2eStack, type E2eStack } from './stack';

jest.setTimeout(120_000);

let stack: E2eStack;

interface SseEvent {
  id: number;
  type: string;
  data: { seq: number; event: { tokenId: string; type: string } };
}

/** A live SSE connection collecting parsed events. */
class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  private readonly abort = new AbortController();
  private done: Promise<void> = Promise.resolve();
  status = 0;

  static async open(path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const res = await fetch(stack.baseUrl + path, {
      headers: { authorization: stack.authorization, ...headers },
      signal: client.abort.signal,
    });
    client.status = res.status;
    if (res.status !== 200 || !res.body) return client;
    const reader = res.body.getReader();
    client.done = (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            client.parse(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        // aborted
      }
    })();
    return client;
  }

  private parse(frame: string): void {
    const fields = new Map<string, string>();
    for (const line of frame.split('\n')) {
      if (line.startsWith(':')) this.comments.push(line);
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart());
    }
    if (fields.has('data')) {
      this.events.push({
        id: Number(fields.get('id')),
        type: fields.get('event') ?? '',
        data: JSON.parse(fields.get('data')!) as SseEvent['data'],
      });
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}

async function consumerCount(): Promise<number> {
  const info = await stack.jsm.streams.info(stack.naming.stream);
  return info.state.consumer_count;
}

async function fire(tokenId: string, transition: string): Promise<number> {
  const res = await stack.call<{ version: number }>(
    'POST',
    `/v1/workflows/document_review/tokens/${tokenId}/fire`,
    { transition },
  );
  expect(res.status).toBe(200);
  return res.body.version;
}

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn', SSE_HEARTBEAT_MS: '1000' },
    { workflows: ['document-review'] },
  );
});

afterAll(async () => {
  await stack?.stop();
});

/** Writes `n` events on the workflow (create, then walk tokens around the review loop). */
async function writeEvents(n: number, prefix: string): Promise<number[]> {
  const seqs: number[] = [];
  const cycle = ['submit', 'review', 'reject', 'revise'];
  let token = 0;
  while (seqs.length < n) {
    const id = `${prefix}-${token++}`;
    const created = await stack.call<{ version: number }>(
      'POST',
      '/v1/workflows/document_review/tokens',
      { id },
    );
    seqs.push(created.body.version);
    for (let i = 0; i < 8 && seqs.length < n; i++) seqs.push(await fire(id, cycle[i % 4]!));
  }
  return seqs;
}

describe('live events (SSE)', () => {
  it('200 events in order with id = seq; after a disconnect at 100, Last-Event-ID resumes with no gap and no duplicate', async () => {
    const baseline = await consumerCount();
    const first = await SseClient.open('/v1/workflows/document_review/events');
    expect(first.status).toBe(200);
    const seqs = await writeEvents(200, 'sse');
    await waitFor(async () => first.events.length >= 200, { timeoutMs: 10_000 });
    expect(first.events.map((e) => e.id)).toEqual(seqs);
    expect(first.events.every((e) => e.data.seq === e.id && e.type === e.data.event.type)).toBe(
      true,
    );
    await first.close();

    // Resume after the 100th: the remaining 100 exactly.
    const resumed = await SseClient.open('/v1/workflows/document_review/events', {
      'last-event-id': String(seqs[99]),
    });
    await waitFor(async () => resumed.events.length >= 100, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
    expect(resumed.events.map((e) => e.id)).toEqual(seqs.slice(100));
    await resumed.close();

    // `since` works the same, and new events keep flowing after the backlog.
    const since = await SseClient.open(`/v1/workflows/document_review/events?since=${seqs[189]}`);
    const more = await writeEvents(5, 'sse-more');
    await waitFor(async () => since.events.length >= 15, { timeoutMs: 10_000 });
    expect(since.events.map((e) => e.id)).toEqual([...seqs.slice(190), ...more]);
    await since.close();

    await waitFor(async () => (await consumerCount()) === baseline, { timeoutMs: 10_000 });
  });

  it('one token’s stream, heartbeats, and 404 for unknown ones', async () => {
    const [created] = await writeEvents(1, 'single');
    const client = await SseClient.open(
      `/v1/workflows/document_review/tokens/single-0/events?since=${created! - 1}`,
    );
    expect(client.status).toBe(200);
    await writeEvents(3, 'other'); // other tokens' events are not sent
    const v = await fire('single-0', 'submit');
    await waitFor(async () => client.events.length >= 2 && client.comments.length >= 2, {
      timeoutMs: 10_000,
    });
    expect(client.events.map((e) => e.id)).toEqual([created, v]);
    expect(client.comments.some((c) => c.includes('heartbeat'))).toBe(true);
    await client.close();
    for (const path of [
      '/v1/workflows/nope/events',
      '/v1/workflows/document_review/tokens/nope/events',
    ]) {
      const res = await stack.call('GET', path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
    const bad = await stack.call('GET', '/v1/workflows/document_review/events', undefined, {
      'last-event-id': 'abc',
    });
    expect(bad.status).toBe(400);
  });

  it('50 clients of one workflow share one consumer, and leave none behind', async () => {
    const baseline = await consumerCount();
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => SseClient.open('/v1/workflows/document_review/events')),
    );
    expect(clients.every((c) => c.status === 200)).toBe(true);
    expect(await consumerCount()).toBe(baseline + 1);
    await Promise.all(clients.map((c) => c.close()));
    await waitFor(async () => (await consumerCount()) === baseline, { timeoutMs: 10_000 });
  });
});
