import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startTestNats, type TestNats } from '@cb/testing';
import { type NatsPlatformError } from './errors';
import { directGet, jsPublish } from './js-wire';
import { LeanKv } from './lean-kv';
import { isNatsOutage } from './outage';
import { RequestMux } from './request-mux';

let server: TestNats;
let nc: NatsConnection;
let mux: RequestMux;

beforeAll(async () => {
  server = await startTestNats();
  nc = await connect({ servers: server.url });
  mux = new RequestMux(nc);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: 'SMALL',
    subjects: ['small.>'],
    max_msg_size: 64,
    allow_direct: true,
  });
});

afterAll(async () => {
  mux?.close();
  await nc?.close();
  await server?.dispose();
});

const failure = (p: Promise<unknown>): Promise<NatsPlatformError> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as NatsPlatformError,
  );

describe('isNatsOutage on what a real nats-server answers', () => {
  it('no responders (no stream on the subject, as while it has no leader) is an outage', async () => {
    const err = await failure(jsPublish(mux, 'nobody.listens', new Uint8Array(1)));
    expect(err.code).toBe('NO_RESPONDERS');
    expect(isNatsOutage(err)).toBe(true);
  });

  it('a request to a frozen server times out: an outage; /ready-style reads stay bounded', async () => {
    const kv = new LeanKv(mux, 'frozen');
    process.kill(server.pid!, 'SIGSTOP');
    try {
      const started = performance.now();
      const err = await failure(kv.get('k', 300));
      expect(performance.now() - started).toBeLessThan(600);
      expect(err.code).toBe('TIMEOUT');
      expect(isNatsOutage(err)).toBe(true);
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
  });

  it('a message larger than the stream takes (10054) is no outage', async () => {
    const err = await failure(jsPublish(mux, 'small.x', new Uint8Array(200)));
    expect(err.code).toBe('JETSTREAM');
    expect(err.cause).toMatchObject({ err_code: 10054 });
    expect(isNatsOutage(err)).toBe(false);
  });

  it('a payload over max_payload is refused by the client as MAX_PAYLOAD, no outage', async () => {
    const err = await failure(jsPublish(mux, 'small.x', new Uint8Array(2 * 1024 * 1024)));
    expect(err.code).toBe('MAX_PAYLOAD');
    expect(isNatsOutage(err)).toBe(false);
  });

  it('a direct get the server refuses carries its status (408 for a malformed one: no outage)', async () => {
    const err = await failure(directGet(mux, 'SMALL', { seq: 0 }));
    expect(err.code).toBe('JETSTREAM');
    expect(err.cause).toEqual({ code: 408 });
    expect(isNatsOutage(err)).toBe(false);
  });
});
