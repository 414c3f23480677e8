import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { startTestNats, uniqueNaming, type TestNats } from '@cb/testing';
import { drainDeliveries } from './drain';

jest.setTimeout(60_000);

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await nats?.dispose();
});

describe('drainDeliveries', () => {
  it('closing a consume in the middle of a streaming backlog leaves nothing delivered that it did not receive', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    const { stream, prefix } = uniqueNaming();
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.drain.>`] });
    const payload = 'x'.repeat(300);
    for (let i = 0; i < 20; i++) {
      await Promise.all(
        Array.from({ length: 1000 }, () => js.publish(`${prefix}.drain.a`, payload)),
      );
    }
    await jsm.consumers.add(stream, {
      durable_name: 'drain',
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(30_000),
      max_ack_pending: 5000,
    });
    const consumer = await js.consumers.get(stream, 'drain');
    let received = 0;
    const messages = await consumer.consume({
      max_messages: 1000,
      expires: 1000,
      callback: (m) => {
        received = Math.max(received, m.info.deliverySequence);
        m.ack();
      },
    });
    // Mid-stream: the server is still sending (without the drain, 600–900 were lost here).
    await new Promise((r) => setTimeout(r, 150));
    await drainDeliveries(messages);
    await messages.close();
    const info = await consumer.info();
    expect(info.delivered.consumer_seq).toBeLessThan(20_000);
    expect(info.delivered.consumer_seq).toBe(received);
  });
});
