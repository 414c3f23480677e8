import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { CommandReply } from '@cb/schemas';
import { startTestNats, type TestNats } from '@cb/testing';
import { encodeJson } from './codec';
import { requestCommand } from './command-request';
import { classifyNatsError } from './errors';
import { RequestMux } from './request-mux';

let server: TestNats;
let nc: NatsConnection;
let mux: RequestMux;

beforeAll(async () => {
  server = await startTestNats();
  nc = await connect({ servers: server.url });
  mux = new RequestMux(nc);
});

afterAll(async () => {
  mux?.close();
  await nc?.close();
  await server?.dispose();
});

const notOwner: CommandReply = {
  ok: false,
  error: { code: 'SERVICE_UNAVAILABLE', message: 'letting go', details: { notOwner: true } },
} as CommandReply;
const refused: CommandReply = {
  ok: false,
  error: { code: 'GUARD_FAILED', message: 'no' },
} as CommandReply;

/** Answers the subject's requests with `replies` in turn (the last one from then on). */
function answering(subject: string, replies: unknown[]): { calls: () => number; stop(): void } {
  let calls = 0;
  const sub = nc.subscribe(subject, {
    callback: (_err, msg) => {
      const reply = replies[Math.min(calls++, replies.length - 1)];
      msg.respond(typeof reply === 'string' ? reply : encodeJson(reply));
    },
  });
  return { calls: () => calls, stop: () => sub.unsubscribe() };
}

describe('requestCommand', () => {
  it('given an owner that answers, when sent, then its reply, after one request', async () => {
    const owner = answering('t.cmd.a', [refused]);
    await nc.flush();
    expect(await requestCommand(mux, 't.cmd.a', encodeJson({}), 2000)).toEqual({
      kind: 'reply',
      reply: refused,
    });
    expect(owner.calls()).toBe(1);
    owner.stop();
  });

  it('given an owner letting go twice, then the next owner’s reply (sent again with back-off)', async () => {
    const owner = answering('t.cmd.b', [notOwner, notOwner, refused]);
    await nc.flush();
    const started = performance.now();
    const outcome = await requestCommand(mux, 't.cmd.b', encodeJson({}), 2000);
    expect(outcome).toEqual({ kind: 'reply', reply: refused });
    expect(owner.calls()).toBe(3);
    // Pauses of 25 and 50 ms between the attempts.
    expect(performance.now() - started).toBeGreaterThanOrEqual(75);
    owner.stop();
  });

  it('given nobody subscribed, then no-responders, tried until the timeout and not past it', async () => {
    const started = performance.now();
    expect(await requestCommand(mux, 't.cmd.none', encodeJson({}), 600)).toEqual({
      kind: 'no-responders',
    });
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(100);
    expect(took).toBeLessThanOrEqual(600 + 250);
  });

  it('given an owner that keeps letting go, then its refusal at the timeout', async () => {
    const owner = answering('t.cmd.c', [notOwner]);
    await nc.flush();
    expect(await requestCommand(mux, 't.cmd.c', encodeJson({}), 400)).toEqual({
      kind: 'not-owner',
      reply: notOwner,
    });
    expect(owner.calls()).toBeGreaterThan(1);
    owner.stop();
  });

  it('given an answer that is no command reply, then unreadable', async () => {
    const owner = answering('t.cmd.d', ['not json']);
    await nc.flush();
    expect(await requestCommand(mux, 't.cmd.d', encodeJson({}), 2000)).toEqual({
      kind: 'unreadable',
    });
    owner.stop();
  });

  it('given a subscriber that never answers, then the timeout is thrown for the caller', async () => {
    const sub = nc.subscribe('t.cmd.silent');
    await nc.flush();
    const err: unknown = await requestCommand(mux, 't.cmd.silent', encodeJson({}), 300).catch(
      (e: unknown) => e,
    );
    expect(classifyNatsError(err).code).toBe('TIMEOUT');
    sub.unsubscribe();
  });
});
