import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { waitFor } from '@cb/testing';
import {
  abortedRequest,
  silentRequest,
  SseReader,
  type SseReaderOptions,
} from '../testing/sse-clients';
import { expectProblem, startE2eStack, type E2eStack } from './stack';

/** An SSE reader as the stack's root credential. */
function openSse(url: string, options: SseReaderOptions = {}): Promise<SseReader> {
  return SseReader.open(url, {
    ...options,
    headers: { authorization: stack.authorization, ...options.headers },
  });
}

jest.setTimeout(180_000);

const MAX_STREAMS = 500;
const WORKFLOW_EVENTS = '/v1/workflows/document_review/events';
const CYCLE = ['submit', 'review', 'reject', 'revise'];

let stack: E2eStack;
let port: number;

beforeAll(async () => {
  stack = await startE2eStack(
    { LOG_LEVEL: 'warn', SSE_MAX_CONNECTIONS: String(MAX_STREAMS) },
    { workflows: ['document-review'] },
  );
  port = Number(new URL(stack.baseUrl).port);
});

afterAll(async () => {
  await stack?.stop();
});

interface LiveMetrics {
  streams: number;
  subscriptions: number;
  slowClientCutoffs: number;
}

/** The gateway's own account of its live events, from /metrics. */
async function liveMetrics(): Promise<LiveMetrics> {
  const text = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);
  return {
    streams: value(/^cb_http_live_event_streams (\S+)$/m),
    subscriptions: value(/^cb_live_event_subscriptions (\S+)$/m),
    slowClientCutoffs: value(/^cb_live_event_cutoffs_total\{reason="slow-client"\} (\S+)$/m),
  };
}

/** Consumers on the event stream, as the server counts them. */
async function consumers(): Promise<number> {
  return (await stack.jsm.streams.info(stack.naming.stream)).state.consumer_count;
}

async function createToken(id: string): Promise<number> {
  const res = await stack.call<{ version: number }>(
    'POST',
    '/v1/workflows/document_review/tokens',
    { id },
  );
  expect(res.status).toBe(201);
  return res.body.version;
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
function rssOf(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

describe('issue 10, measured 3: live-event streams leak', () => {
  it('300 SSE requests aborted 0–8 ms after connecting leave the slot count and the NATS consumer count where they were', async () => {
    const tokens = ['leak-0', 'leak-1', 'leak-2', 'leak-3'];
    for (const t of tokens) await createToken(t);
    const baseConsumers = await consumers();
    expect(await liveMetrics()).toMatchObject({ streams: 0, subscriptions: 0 });

    // Live and resuming streams of the workflow and of single tokens, so the aborts land before,
    // during and after lookups, hub creations and replays.
    const paths = [
      WORKFLOW_EVENTS,
      `${WORKFLOW_EVENTS}?since=0`,
      ...tokens.map((t) => `/v1/workflows/document_review/tokens/${t}/events`),
    ];
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        abortedRequest(port, paths[i % paths.length]!, i % 9, stack.authorization),
      ),
    );
    await waitFor(
      async () => {
        const m = await liveMetrics();
        return m.streams === 0 && m.subscriptions === 0 && (await consumers()) === baseConsumers;
      },
      { timeoutMs: 5000, description: 'no slot and no consumer left' },
    );

    // Every slot is still there: SSE_MAX_CONNECTIONS streams open on one consumer; one more: 429.
    const open = await Promise.all(
      Array.from({ length: MAX_STREAMS }, () => openSse(stack.baseUrl + WORKFLOW_EVENTS)),
    );
    expect(open.filter((r) => r.status === 200)).toHaveLength(MAX_STREAMS);
    expectProblem(await stack.call('GET', WORKFLOW_EVENTS), 429, 'TOO_MANY_REQUESTS');
    expect(await liveMetrics()).toMatchObject({ streams: MAX_STREAMS, subscriptions: 1 });
    expect(await consumers()).toBe(baseConsumers + 1);
    for (const r of open) r.close();
    await waitFor(
      async () => (await liveMetrics()).streams === 0 && (await consumers()) === baseConsumers,
      { timeoutMs: 5000, description: 'all streams closed' },
    );
  });

  it('HEAD on both SSE routes answers at once with the stream headers and holds no slot', async () => {
    await createToken('head-0');
    const baseConsumers = await consumers();
    for (const path of [WORKFLOW_EVENTS, '/v1/workflows/document_review/tokens/head-0/events']) {
      const started = performance.now();
      const res = await fetch(stack.baseUrl + path, {
        method: 'HEAD',
        headers: { authorization: stack.authorization },
        signal: AbortSignal.timeout(2000),
      });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await res.text()).toBe('');
    }
    const unknown = await fetch(`${stack.baseUrl}/v1/workflows/nope/events`, {
      method: 'HEAD',
      headers: { authorization: stack.authorization },
      signal: AbortSignal.timeout(2000),
    });
    expect(unknown.status).toBe(404);
    // Many at once hold nothing either.
    const heads = await Promise.all(
      Array.from({ length: 50 }, () =>
        fetch(stack.baseUrl + WORKFLOW_EVENTS, {
          method: 'HEAD',
          headers: { authorization: stack.authorization },
          signal: AbortSignal.timeout(2000),
        }),
      ),
    );
    expect(heads.every((r) => r.status === 200)).toBe(true);
    expect(await liveMetrics()).toMatchObject({ streams: 0, subscriptions: 0 });
    expect(await consumers()).toBe(baseConsumers);
  });
});

describe('issue 10, measured 4: fan-out can cut the gateway off NATS', () => {
  it('400 SSE clients (150 never reading) and a 200 KB token: every committed fire answers 2xx, the gateway stays on NATS, the silent ones are cut off with a final event, RSS stays bounded', async () => {
    await createToken('big-0');
    const baseConsumers = await consumers();
    const { slowClientCutoffs: baseCutoffs } = await liveMetrics();
    const pid = stack.gateway.pid;
    const rssBefore = rssOf(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssOf(pid));
    }, 20);
    const url = stack.baseUrl + WORKFLOW_EVENTS;
    let silent: Socket[] = [];
    let readers: SseReader[] = [];
    try {
      // 149 that send the request and never read a byte, one that stops after the headers (and
      // reads late), 250 that read.
      silent = await Promise.all(
        Array.from({ length: 149 }, () =>
          silentRequest(port, WORKFLOW_EVENTS, stack.authorization),
        ),
      );
      const late = await openSse(url, { paused: true });
      readers = await Promise.all(Array.from({ length: 250 }, () => openSse(url)));
      await waitFor(async () => (await liveMetrics()).streams === 400, {
        timeoutMs: 10_000,
        description: '400 streams open',
      });
      expect((await liveMetrics()).subscriptions).toBe(1);
      expect(await consumers()).toBe(baseConsumers + 1);

      // Each fire patches 200 KB into the token: its event (patch plus state) is about 400 KB.
      const blob = 'x'.repeat(200_000);
      const versions: number[] = [];
      const fire = async (n: number): Promise<void> => {
        const res = await stack.call<{ version: number }>(
          'POST',
          '/v1/workflows/document_review/tokens/big-0/fire',
          { transition: CYCLE[n % CYCLE.length], data: { blob, n } },
        );
        expect(res.status).toBe(200);
        versions.push(res.body.version);
      };
      for (let n = 0; n < 4; n++) await fire(n);
      await waitFor(async () => readers.every((r) => r.ids.length >= versions.length), {
        timeoutMs: 30_000,
        description: 'every reader has every event',
      });
      for (const r of readers) expect(r.ids).toEqual(versions);

      // Nobody but the silent ones now: they fall behind (past what the kernel takes, about 4 MB
      // a socket here, plus their buffer) until each is cut off; the fires never notice.
      for (const r of readers) r.close();
      for (let n = 4; n < 60; n++) {
        if ((await liveMetrics()).slowClientCutoffs - baseCutoffs === 150) break;
        await fire(n);
      }
      await waitFor(
        async () => {
          const m = await liveMetrics();
          return m.slowClientCutoffs - baseCutoffs === 150 && m.streams === 0;
        },
        { timeoutMs: 20_000, description: 'the 150 silent clients cut off' },
      );
      await waitFor(async () => (await consumers()) === baseConsumers, {
        timeoutMs: 5000,
        description: 'the shared consumer deleted',
      });

      // The late reader gets everything up to its cut-off, then the cut-off saying where to resume.
      late.resume();
      await late.ended;
      const cutoff = late.cutoff!;
      expect(cutoff).toEqual({ reason: 'slow-client', lastEventId: expect.any(Number) });
      expect(late.ids).toEqual(versions.slice(0, versions.indexOf(cutoff.lastEventId) + 1));
      expect(late.ids.length).toBeLessThan(versions.length);

      // The gateway never lost NATS (fires committed and answered all along, as checked above).
      expect(stack.gateway.output()).not.toMatch(/disconnected from NATS|slow consumer/);
      clearInterval(sampler);
      // Events are serialised once per hub and shared by every client, and a client holds at
      // most its buffer (1 MiB) of them: one copy of the 400 KB event per client would be
      // 160 MB for a single fire. The bound leaves room for the requests' bodies and the heap's
      // slack.
      const growth = rssPeak - rssBefore;
      process.stdout.write(
        `gateway RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB (+${(growth / 2 ** 20).toFixed(0)} MiB), ${versions.length} fires\n`,
      );
      expect(growth).toBeLessThan(96 * 2 ** 20);
    } finally {
      clearInterval(sampler);
      for (const s of silent) s.destroy();
      for (const r of readers) r.close();
    }
  });
});

// Last: it stops the gateway.
describe('live events at shutdown', () => {
  it('SIGTERM ends every stream with a final event at once, reading or not, and the gateway exits cleanly', async () => {
    await createToken('bye-0');
    const url = stack.baseUrl + WORKFLOW_EVENTS;
    const reading = await openSse(url);
    const paused = await openSse(`${url}?since=0`, { paused: true });
    const silent = await silentRequest(port, WORKFLOW_EVENTS, stack.authorization);
    await waitFor(async () => (await liveMetrics()).streams === 3, { description: '3 streams' });
    const started = performance.now();
    // Well under SHUTDOWN_TIMEOUT_MS (10 s), which it would otherwise wait for the streams.
    const code = await stack.gateway.stop({ timeoutMs: 15_000 });
    const elapsedMs = performance.now() - started;
    const ok = code === 0 && elapsedMs < 5000;
    // On failure the gateway's last words come with the numbers.
    expect({
      code,
      elapsedMs: Math.round(elapsedMs),
      log: ok ? '' : stack.gateway.output(),
    }).toEqual({
      code: 0,
      elapsedMs: expect.any(Number),
      log: '',
    });
    await reading.ended;
    expect(reading.cutoff).toEqual({ reason: 'shutdown', lastEventId: expect.any(Number) });
    paused.resume();
    await paused.ended;
    silent.destroy();
  });
});
