import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { uniqueNaming, useTestNats } from '@cb/testing';
import { drainDeliveries } from './drain';

jest.setTimeout(60_000);

const nats = useTestNats();

describe('drainDeliveries', () => {
  it('closing a consume in the middle of a streaming backlog leaves nothing delivered that it did not receive', async () => {
    const jsm = await jetstreamManager(nats.nc);
    const js = jetstream(nats.nc);
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
    let streaming!: () => void;
    const started = new Promise<void>((resolve) => (streaming = resolve));
    const messages = await consumer.consume({
      max_messages: 1000,
      expires: 1000,
      callback: (m) => {
        received = Math.max(received, m.info.deliverySequence);
        m.ack();
        if (received >= 2000) streaming();
      },
    });
    // Mid-stream: the server is still sending (without the drain, 600–900 were lost here). Closed
    // once 2,000 of the 20,000 arrived, not after a fixed time: a quiet machine had them all by then.
    await started;
    await drainDeliveries(messages);
    await messages.close();
    const info = await consumer.info();
    expect(info.delivered.consumer_seq).toBeLessThan(20_000);
    expect(info.delivered.consumer_seq).toBe(received);
  });
});
