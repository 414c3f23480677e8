import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { uniqueNaming } from '../unique-naming';
import { startBinaryNats } from './binary-nats';
import { containerRuntimeAvailable } from './container-nats';
import { findNatsServerBinary } from '@cb/ops';
import { noNatsServerError, startTestNats } from './start-test-nats';
import type { TestNats } from './test-nats';

const saved = process.env['NATS_TEST_URL'];
afterEach(() => {
  if (saved === undefined) delete process.env['NATS_TEST_URL'];
  else process.env['NATS_TEST_URL'] = saved;
});

async function ownServer(jetstream = true): Promise<TestNats> {
  const binary = findNatsServerBinary();
  if (!binary) throw new Error('these tests need the nats-server binary');
  return startBinaryNats(binary, jetstream);
}

describe('startTestNats', () => {
  it('without NATS_TEST_URL starts a private server with JetStream', async () => {
    delete process.env['NATS_TEST_URL'];
    const nats = await startTestNats();
    try {
      expect(nats.port).not.toBe(4222);
      expect(nats.source).toBe((await containerRuntimeAvailable()) ? 'container' : 'binary');
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      const naming = uniqueNaming();
      await jsm.streams.add({ name: naming.stream, subjects: naming.streamSubjects });
      expect((await jsm.streams.info(naming.stream)).config.name).toBe(naming.stream);
      await nc.close();
    } finally {
      await nats.dispose();
    }
  });

  it('answers in milliseconds when no container runtime is there', async () => {
    const started = performance.now();
    const available = await containerRuntimeAvailable();
    if (!available) expect(performance.now() - started).toBeLessThan(50);
  });

  describe('with NATS_TEST_URL', () => {
    let own: TestNats;
    beforeAll(async () => {
      own = await ownServer();
    });
    afterAll(async () => {
      await own?.dispose();
    });

    it('uses that server and never stops it', async () => {
      process.env['NATS_TEST_URL'] = own.url;
      const nats = await startTestNats();
      expect(nats).toMatchObject({ url: own.url, source: 'env', port: own.port, storeDir: null });
      await expect(nats.stop()).rejects.toThrow(/not available for a server from NATS_TEST_URL/);
      await expect(nats.restart()).rejects.toThrow(/not available for a server from NATS_TEST_URL/);
      await nats.dispose();
      await nats.dispose();
      const nc = await connect({ servers: nats.url, reconnect: false });
      await nc.close();
      expect(own.pid).not.toBeNull();
    });

    it('fails clearly when nothing answers there', async () => {
      const gone = await ownServer(false);
      const url = gone.url;
      await gone.dispose();
      process.env['NATS_TEST_URL'] = url;
      await expect(startTestNats()).rejects.toThrow(`NATS_TEST_URL=${url} does not answer`);
    });

    it('fails clearly when JetStream is wanted but disabled there', async () => {
      const plain = await ownServer(false);
      try {
        process.env['NATS_TEST_URL'] = plain.url;
        await expect(startTestNats()).rejects.toThrow(/JetStream disabled/);
        await expect(startTestNats({ jetstream: false })).resolves.toMatchObject({ source: 'env' });
      } finally {
        await plain.dispose();
      }
    });
  });

  it('says how to get a server when there is none', () => {
    expect(noNatsServerError().message).toMatch(
      /apt-get install nats-server.*brew install nats-server.*NATS_TEST_URL/s,
    );
  });
});
