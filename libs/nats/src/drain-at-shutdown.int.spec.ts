import { connect } from '@nats-io/transport-node';
import { createLogger } from '@cb/logging';
import { startTestNats } from '@cb/testing';
import { drainAtShutdown } from './connect';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('drainAtShutdown', () => {
  it('drains a connection whose server is up', async () => {
    const nats = await startTestNats();
    try {
      const nc = await connect({ servers: nats.url });
      await drainAtShutdown(nc, logger);
      expect(nc.isClosed()).toBe(true);
    } finally {
      await nats.dispose();
    }
  });

  it('closes, without throwing, a connection whose server went away at the same moment', async () => {
    const nats = await startTestNats();
    const nc = await connect({
      servers: nats.url,
      reconnectTimeWait: 50,
      maxReconnectAttempts: -1,
    });
    nc.subscribe('some.subject');
    await nats.stop({ signal: 'SIGKILL' });
    // A plain drain fails here ("connection disconnected" / closed while reconnecting).
    await expect(drainAtShutdown(nc, logger)).resolves.toBeUndefined();
    expect(nc.isClosed()).toBe(true);
    await nats.dispose();
  });
});
