import { isAlive } from '../processes';
import { existsSync } from 'node:fs';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { uniqueNaming } from '../unique-naming';
import { waitFor } from '../wait-for';
import { startBinaryNats } from './binary-nats';
import { findNatsServerBinary } from '@cb/ops';
import { readServerInfo } from './server-info';
import type { TestNats } from './test-nats';

function natsServerBinary(): string {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error('these tests need the nats-server binary');
  return binary;
}

describe('binary test nats-server', () => {
  let nats: TestNats;
  let nc: NatsConnection | undefined;
  const naming = uniqueNaming();
  const subject = naming.workflowSubject('default', 'wf1');

  beforeAll(async () => {
    nats = await startBinaryNats(natsServerBinary(), true);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
  });

  it('starts on a free local port with a fresh store dir', () => {
    expect(nats.source).toBe('binary');
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.port).not.toBe(4222);
    expect(nats.storeDir).not.toBeNull();
    expect(existsSync(nats.storeDir as string)).toBe(true);
    expect(nats.pid).toEqual(expect.any(Number));
    expect(isAlive(nats.pid as number)).toBe(true);
  });

  it('serves JetStream: create a stream, publish, read back', async () => {
    nc = await connect({ servers: nats.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: naming.stream, subjects: naming.streamSubjects });
    const ack = await jetstream(nc).publish(subject, 'hello');
    expect(ack.seq).toBe(1);
    const msg = await jsm.streams.getMessage(naming.stream, { last_by_subj: subject });
    expect(msg?.string()).toBe('hello');
  });

  it('stop({ signal: SIGKILL }) kills the nats-server process itself', async () => {
    const pid = nats.pid as number;
    await nats.stop({ signal: 'SIGKILL' });
    expect(nats.pid).toBeNull();
    expect(isAlive(pid)).toBe(false);
    await expect(connect({ servers: nats.url, reconnect: false, timeout: 1000 })).rejects.toThrow();
    await expect(readServerInfo('127.0.0.1', nats.port, 500)).rejects.toThrow();
    expect(existsSync(nats.storeDir as string)).toBe(true);
  });

  it('restart() comes back on the same port with the stream and its message', async () => {
    const port = nats.port;
    await nats.restart();
    expect(nats.port).toBe(port);
    expect(nats.url).toBe(`nats://127.0.0.1:${port}`);
    const jsm = await jetstreamManager(await freshConnection(nats.url));
    const info = await jsm.streams.info(naming.stream);
    expect(info.state.messages).toBe(1);
    const msg = await jsm.streams.getMessage(naming.stream, { seq: 1 });
    expect(msg?.subject).toBe(subject);
    expect(msg?.string()).toBe('hello');
  });

  it('lets the first connection reconnect after the restart', async () => {
    const connection = nc as NatsConnection;
    // A request published while disconnected can go out before nats.js re-subscribes its reply
    // inbox and then times out (5 s by default): probe with short timeouts instead.
    const msg = await waitFor(
      async () => {
        const jsm = await jetstreamManager(connection, { timeout: 500 });
        return jsm.streams.getMessage(naming.stream, { seq: 1 });
      },
      { timeoutMs: 4000, description: 'the first connection to reconnect' },
    );
    expect(msg?.string()).toBe('hello');
  });

  it('stop() is graceful by default and restart() works again', async () => {
    const pid = nats.pid as number;
    await nats.stop();
    expect(isAlive(pid)).toBe(false);
    await nats.restart();
    expect(nats.pid).not.toBe(pid);
    const jsm = await jetstreamManager(await freshConnection(nats.url));
    expect((await jsm.streams.info(naming.stream)).state.messages).toBe(1);
  });

  it('dispose() removes the store dir and leaves no nats-server process; twice is fine', async () => {
    const pid = nats.pid as number;
    const storeDir = nats.storeDir as string;
    await nc?.close();
    nc = undefined;
    await closeFreshConnections();
    await nats.dispose();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(storeDir)).toBe(false);
    expect(nats.pid).toBeNull();
    await nats.dispose();
    await expect(nats.restart()).rejects.toThrow(/disposed/);
  });
});

describe('binary test nats-server without JetStream', () => {
  it('has no store dir and JetStream is off', async () => {
    const nats = await startBinaryNats(natsServerBinary(), false);
    try {
      expect(nats.storeDir).toBeNull();
      const info = await readServerInfo('127.0.0.1', nats.port);
      expect(info.jetstream).toBeFalsy();
    } finally {
      await nats.dispose();
    }
  });
});

const fresh: NatsConnection[] = [];
async function freshConnection(url: string): Promise<NatsConnection> {
  const connection = await connect({ servers: url });
  fresh.push(connection);
  return connection;
}
async function closeFreshConnections(): Promise<void> {
  await Promise.all(fresh.splice(0).map((c) => c.close()));
}
afterAll(closeFreshConnections);
