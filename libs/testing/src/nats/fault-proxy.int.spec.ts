import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { startNatsFaultProxy, type NatsFaultProxy } from './fault-proxy';
import { startTestNats } from './start-test-nats';
import type { TestNats } from './test-nats';

describe('startNatsFaultProxy', () => {
  let nats: TestNats;
  let proxy: NatsFaultProxy;
  let through: NatsConnection;
  let direct: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats({ jetstream: false });
    proxy = await startNatsFaultProxy(nats.port);
    through = await connect({ servers: proxy.url });
    direct = await connect({ servers: nats.url });
    for (const subject of ['svc.a', 'other.b']) {
      direct.subscribe(subject, {
        callback: (_err, msg) => {
          msg.respond(msg.data);
        },
      });
    }
    await direct.flush();
  });

  afterAll(async () => {
    await through?.close();
    await direct?.close();
    await proxy?.close();
    await nats?.dispose();
  });

  const ask = (
    subject: string,
    body: string,
    timeout = 1000,
    withHeader = false,
  ): Promise<string> => {
    const h = headers();
    h.set('X-Test', 'yes');
    return through
      .request(subject, new TextEncoder().encode(body), {
        timeout,
        ...(withHeader ? { headers: h } : {}),
      })
      .then((m) => new TextDecoder().decode(m.data));
  };

  it('drops publishes to the given prefixes only, with headers or without, until healed', async () => {
    expect(await ask('svc.a', 'one')).toBe('one');
    proxy.dropPublishes(['svc.']);
    await expect(ask('svc.a', 'two', 300)).rejects.toThrow(/timeout/i);
    await expect(ask('svc.a', 'two', 300, true)).rejects.toThrow(/timeout/i);
    // A large payload split over many TCP chunks, right after a dropped one, still arrives whole.
    const big = 'x'.repeat(200_000);
    expect(await ask('other.b', big, 1000, true)).toBe(big);
    expect(proxy.dropped).toBe(2);
    proxy.heal();
    expect(await ask('svc.a', 'three')).toBe('three');
  });
});
