import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createLogger } from '@cb/logging';
import { EventStore, RequestMux, ensureInfrastructure } from '@cb/nats';
import type { TokenUpdated } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { startTestNats, uniqueNaming, waitFor, type TestNats } from '@cb/testing';
import { abortedRequest, SseReader } from '../testing/sse-clients';
import { LiveEvents } from './live-events';
import { LiveHubs } from './live-hubs';

jest.setTimeout(60_000);

const logger = createLogger({ service: 'test', level: 'silent' });
const BUFFER_BYTES = 256 * 1024;

let server: TestNats;
let nc: NatsConnection;
let liveNc: NatsConnection;
let jsm: JetStreamManager;
let naming: Naming;
let store: EventStore;
let hubs: LiveHubs;
let live: LiveEvents;
let http: Server;
let port: number;

const reconnecting = { maxReconnectAttempts: -1, reconnectTimeWait: 250 };

beforeAll(async () => {
  server = await startTestNats();
  nc = await connect({ servers: server.url, ...reconnecting });
  liveNc = await connect({ servers: server.url, ...reconnecting });
  naming = uniqueNaming();
  const infra = await ensureInfrastructure(
    nc,
    naming,
    { replicas: 1, duplicateWindowMs: 60_000 },
    logger,
  );
  jsm = await jetstreamManager(nc);
  store = new EventStore(nc, infra.mux, naming.stream);
  hubs = new LiveHubs(liveNc, new RequestMux(liveNc), naming.stream, logger, {
    heartbeatMs: 1000,
  });
  live = new LiveEvents(hubs, { maxConnections: 100, clientBufferBytes: BUFFER_BYTES });
  // The route's part, without Fastify: /?filter=<subject>[&after=<seq>]
  http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const after = url.searchParams.get('after');
    const stream = live.open(res, logger);
    stream
      .follow(url.searchParams.get('filter')!, after === null ? undefined : Number(after), {})
      .catch(() => {
        stream.abandon();
        res.writeHead(503).end();
      });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  port = (http.address() as AddressInfo).port;
});

afterAll(async () => {
  await live?.stopAll();
  await new Promise((resolve) => http?.close(resolve));
  await liveNc?.close();
  await nc?.close();
  await server?.dispose();
});

function open(filter: string, after?: number, paused = false): Promise<SseReader> {
  const query = new URLSearchParams({
    filter,
    ...(after === undefined ? {} : { after: String(after) }),
  });
  return SseReader.open(`http://127.0.0.1:${port}/?${query}`, { paused });
}

async function consumers(): Promise<number> {
  return (await jsm.streams.info(naming.stream)).state.consumer_count;
}

function updated(workflowId: string, tokenId: string, n: number, pad = ''): TokenUpdated {
  const at = new Date().toISOString();
  return {
    type: 'token.updated.v1',
    eventId: `${tokenId}-${n}`,
    occurredAt: at,
    workflowId,
    tokenId,
    dataPatch: { n, pad },
    state: {
      id: tokenId,
      workflowId,
      definitionVersion: 1,
      place: 'p',
      data: { n },
      metadata: {},
      createdAt: at,
      updatedAt: at,
      placeEnteredAt: at,
    },
  };
}

/** Append one event (once, however often it is retried); returns its seq. */
async function write(workflowId: string, tokenId: string, n: number, pad = ''): Promise<number> {
  const { seq } = await store.append(
    naming.tokenSubject('default', workflowId, tokenId),
    updated(workflowId, tokenId, n, pad),
    { msgId: `${workflowId}-${tokenId}-${n}` },
  );
  return seq;
}

describe('live event hubs', () => {
  it('one consumer per filter, shared by its clients and deleted with the last', async () => {
    const base = await consumers();
    const wf = naming.workflowTokensFilter('default', 'shared');
    const tokenA = naming.tokenSubject('default', 'shared', 'a');
    const all = await Promise.all([open(wf), open(wf), open(wf)]);
    const onlyA = await Promise.all([open(tokenA), open(tokenA)]);
    expect([...all, ...onlyA].map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await consumers()).toBe(base + 2);
    expect(live.stats()).toMatchObject({ streams: 5, subscriptions: 2 });

    const seqs = [];
    for (let i = 0; i < 6; i++) seqs.push(await write('shared', i % 2 === 0 ? 'a' : 'b', i));
    await waitFor(async () => all.every((r) => r.ids.length === 6), { timeoutMs: 5000 });
    await waitFor(async () => onlyA.every((r) => r.ids.length === 3), { timeoutMs: 5000 });
    for (const r of all) expect(r.ids).toEqual(seqs);
    for (const r of onlyA) expect(r.ids).toEqual([seqs[0], seqs[2], seqs[4]]);

    all[0]!.close();
    all[1]!.close();
    await waitFor(async () => live.stats().streams === 3, { timeoutMs: 5000 });
    expect(await consumers()).toBe(base + 2);
    all[2]!.close();
    await waitFor(async () => (await consumers()) === base + 1, { timeoutMs: 5000 });
    expect(live.stats().subscriptions).toBe(1);
    for (const r of onlyA) r.close();
    await waitFor(async () => (await consumers()) === base, { timeoutMs: 5000 });
    expect(live.stats()).toMatchObject({ streams: 0, subscriptions: 0 });
  });

  it('a resuming client gets the replay, then live events, with no gap and no duplicate while writes go on', async () => {
    const wf = naming.workflowTokensFilter('default', 'merge');
    const seqs: number[] = [];
    for (let i = 0; i < 60; i++) seqs.push(await write('merge', `t${i % 3}`, i));
    const following = await open(wf); // the hub exists and moves on while the others join
    let writing = true;
    const writer = (async () => {
      for (let i = 60; writing || i < 160; i++) seqs.push(await write('merge', `t${i % 3}`, i));
    })();
    await waitFor(async () => following.ids.length >= 20, { timeoutMs: 5000 });
    // Joins at different points of the write burst, resuming from different points of the past.
    const resumed: Array<{ after: number; reader: SseReader }> = [];
    for (const after of [0, seqs[9]!, seqs[59]!, seqs[70]!]) {
      resumed.push({ after, reader: await open(wf, after) });
      await new Promise((r) => setTimeout(r, 20));
    }
    writing = false;
    await writer;
    const last = seqs.at(-1)!;
    await waitFor(async () => resumed.every(({ reader }) => reader.ids.at(-1) === last), {
      timeoutMs: 10_000,
    });
    for (const { after, reader } of resumed) {
      expect(reader.ids).toEqual(seqs.filter((s) => s > after));
    }
    // The live one: every event from where it joined, in order.
    expect(following.ids).toEqual(seqs.slice(seqs.indexOf(following.ids[0]!)));
    for (const r of [following, ...resumed.map((x) => x.reader)]) r.close();
    await waitFor(async () => live.stats().streams === 0, { timeoutMs: 5000 });
  });

  it('clients gone before, during or after their hub starts leave no consumer and no slot', async () => {
    const base = await consumers();
    const aborted: Array<Promise<void>> = [];
    for (let i = 0; i < 120; i++) {
      // A fresh token filter every third request: hub creations race the aborts.
      const filter =
        i % 3 === 0
          ? naming.tokenSubject('default', 'gone', `t${i}`)
          : naming.workflowTokensFilter('default', `gone${i % 2}`);
      aborted.push(abortedRequest(port, `/?filter=${encodeURIComponent(filter)}`, i % 6, ''));
    }
    await Promise.all(aborted);
    await waitFor(async () => live.stats().streams === 0 && live.stats().subscriptions === 0, {
      timeoutMs: 5000,
      description: 'no slot, no hub',
    });
    await waitFor(async () => (await consumers()) === base, {
      timeoutMs: 5000,
      description: 'no consumer',
    });
  });

  it('a client that stops reading is cut off at its buffer bound with a final event; the others get everything', async () => {
    const wf = naming.workflowTokensFilter('default', 'slow');
    const reading = await open(wf);
    const stalled = await open(wf, undefined, true);
    const pad = 'x'.repeat(200_000);
    const seqs: number[] = [];
    // Past what the kernel absorbs for a socket nobody reads (about 4 MB here) plus the buffer.
    for (let i = 0; i < 40 && live.stats().cutoffs['slow-client'] === 0; i++) {
      seqs.push(await write('slow', 'big', i, pad));
    }
    await waitFor(async () => live.stats().cutoffs['slow-client'] === 1, { timeoutMs: 10_000 });
    seqs.push(await write('slow', 'big', 99, pad));
    await waitFor(async () => reading.ids.length === seqs.length, { timeoutMs: 10_000 });
    expect(reading.ids).toEqual(seqs);
    expect(live.stats().streams).toBe(1);

    // Read late: everything up to the cut-off, then the cut-off saying where to resume.
    stalled.resume();
    await stalled.ended;
    const cutoff = stalled.cutoff!;
    expect(cutoff.reason).toBe('slow-client');
    expect(stalled.ids).toEqual(seqs.slice(0, seqs.indexOf(cutoff.lastEventId) + 1));
    expect(stalled.ids.length).toBeLessThan(seqs.length);
    // Resuming from there misses nothing.
    const resumed = await open(wf, cutoff.lastEventId);
    await waitFor(async () => resumed.ids.at(-1) === seqs.at(-1), { timeoutMs: 10_000 });
    expect([...stalled.ids, ...resumed.ids]).toEqual(seqs);
    reading.close();
    resumed.close();
  });

  it('a replay goes as fast as the client reads: a long one to a reader that pauses is not cut off', async () => {
    // Only what waits behind the replay counts against the buffer, never the replay itself.
    const pad = 'x'.repeat(200_000);
    const seqs: number[] = [];
    for (let i = 0; i < 40; i++) seqs.push(await write('backlog', 'big', i, pad)); // 8 MB
    const cutoffs = live.stats().cutoffs['slow-client'];
    const paused = await open(naming.workflowTokensFilter('default', 'backlog'), 0, true);
    await new Promise((r) => setTimeout(r, 500));
    seqs.push(await write('backlog', 'big', 40)); // a live one waits behind the replay
    await new Promise((r) => setTimeout(r, 500));
    expect(live.stats().cutoffs['slow-client']).toBe(cutoffs);
    paused.resume();
    await waitFor(async () => paused.ids.length === seqs.length, { timeoutMs: 10_000 });
    expect(paused.ids).toEqual(seqs);
    seqs.push(await write('backlog', 'big', 41));
    await waitFor(async () => paused.ids.length === seqs.length, { timeoutMs: 5000 });
    expect(paused.ids).toEqual(seqs);
    paused.close();
  });

  it('a hub follows the stream across a NATS restart with no gap', async () => {
    const wf = naming.workflowTokensFilter('default', 'restart');
    const reader = await open(wf);
    const seqs: number[] = [];
    for (let i = 0; i < 5; i++) seqs.push(await write('restart', 'r', i));
    await waitFor(async () => reader.ids.length === 5, { timeoutMs: 5000 });
    await server.restart();
    for (let i = 5; i < 10; i++) {
      seqs.push(
        await waitFor(async () => write('restart', 'r', i).catch(() => undefined), {
          timeoutMs: 20_000,
        }),
      );
    }
    await waitFor(async () => reader.ids.length === 10, { timeoutMs: 20_000 });
    expect(reader.ids).toEqual(seqs);
    reader.close();
  });
});
