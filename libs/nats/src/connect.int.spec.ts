import { Writable } from 'node:stream';
import { createLogger } from '@cb/logging';
import { startTestNats, type TestNats } from '@cb/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, inboxPrefixFor } from './connect';

/** A logger whose lines land in `lines`. */
function capture(): {
  lines: Array<Record<string, unknown>>;
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'connect-test', level: 'info', destination }) };
}

describe('connectNats without credentials', () => {
  let nats: TestNats;
  const open: NatsConnection[] = [];
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await nats.dispose();
  });

  it('still works on a plain NATS_URL and warns once that NATS is unauthenticated', async () => {
    const { lines, logger } = capture();
    const nc = await connectNats({ url: nats.url, name: 'plain' }, logger);
    open.push(nc);
    await nc.flush();
    const warnings = lines.filter((l) => /NATS is unauthenticated/.test(String(l.msg)));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn' });
    // Its inboxes keep nats.js's default prefix.
    expect(inboxPrefixFor({})).toBeUndefined();
  });

  it('derives the inbox prefix from the user unless NATS_INBOX_PREFIX says otherwise', () => {
    expect(inboxPrefixFor({ user: 'gateway' })).toBe('_INBOX_gateway');
    expect(inboxPrefixFor({ user: 'gateway', inboxPrefix: '_INBOX_gw2' })).toBe('_INBOX_gw2');
  });
});
