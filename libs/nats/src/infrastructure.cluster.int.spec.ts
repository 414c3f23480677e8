import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@cb/logging';
import { startTestCluster, uniqueNaming, waitFor, type TestCluster } from '@cb/testing';
import { decodeJson } from './codec';
import { EventStore } from './event-store';
import { ensureInfrastructure, type Infrastructure } from './infrastructure';

/*
 * The platform on a real 3-node JetStream cluster (nats-server on loopback, R3): what
 * CB_STREAM_REPLICAS=3 gives the services.
 */
const logger = createLogger({ service: 'test', level: 'silent' });
const settings = { replicas: 3, duplicateWindowMs: 60_000 };

describe('ensureInfrastructure on a 3-node cluster (replicas 3)', () => {
  let cluster: TestCluster;
  let nc: NatsConnection;
  let infra: Infrastructure;
  let store: EventStore;
  const naming = uniqueNaming();

  beforeAll(async () => {
    cluster = await startTestCluster();
    nc = await connect({ servers: cluster.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    infra = await ensureInfrastructure(nc, naming, settings, logger);
    store = new EventStore(nc, infra.mux, naming.stream);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.dispose();
  });

  it('creates the event and dead-letter streams and the meta and idempotency buckets as R3, once', async () => {
    const again = await ensureInfrastructure(nc, naming, settings, logger);
    const buckets = [naming.metaBucket, naming.idempotencyBucket].map((b) => `KV_${b}`);
    for (const name of [naming.stream, naming.deadLetterStream, ...buckets]) {
      const info = await again.jsm.streams.info(name);
      expect({ name, replicas: info.config.num_replicas }).toEqual({ name, replicas: 3 });
      expect(info.cluster?.leader).toMatch(/^n[123]$/);
      expect(info.cluster?.replicas?.map((r) => r.name).sort()).toEqual(
        ['n1', 'n2', 'n3'].filter((n) => n !== info.cluster?.leader),
      );
    }
    expect((await infra.meta.status()).replicas).toBe(3);
    expect((await infra.idempotency.status()).replicas).toBe(3);
    const partitions = await infra.meta.get(naming.partitionsMetaKey);
    expect(decodeJson(partitions!.value)).toEqual({ partitions: naming.partitions });
  });

  it('appends with expected-sequence checks and reads back with direct gets from the replicas', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'tok-1');
    const first = await store.append(subject, { n: 1 }, { expectedLastSubjectSeq: 0 });
    const second = await store.append(subject, { n: 2 }, { expectedLastSubjectSeq: first.seq });
    await expect(
      store.append(subject, { n: 3 }, { expectedLastSubjectSeq: first.seq }),
    ).rejects.toMatchObject({ code: 'WRONG_LAST_SEQUENCE' });
    expect((await store.last(subject))?.json()).toEqual({ n: 2 });
    expect((await store.at(first.seq))?.json()).toEqual({ n: 1 });
    expect(second.seq).toBe(first.seq + 1);
    await infra.idempotency.put('k', 'v');
    expect((await infra.idempotency.get('k'))?.string()).toBe('v');
  });

  it('keeps the history and takes writes again once a new leader is elected after the event stream leader is SIGKILLed', async () => {
    const subject = naming.tokenSubject('default', 'wf', 'tok-1');
    const before = (await store.last(subject))!;
    const leader = cluster.node(await cluster.waitForLeader(naming.stream, 5000));
    await leader.kill('SIGKILL');
    const next = await cluster.waitForLeader(naming.stream, 15_000);
    expect(next).not.toBe(leader.name);
    const appended = await waitFor(
      () => store.append(subject, { n: 3 }, { expectedLastSubjectSeq: before.seq }),
      { timeoutMs: 15_000, intervalMs: 100, description: 'an append after the election' },
    );
    expect(appended.seq).toBe(before.seq + 1);
    const history = [];
    for await (const msg of store.allOnSubject(subject)) history.push(msg.json());
    expect(history).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // The buckets, whose leaders may have been on that node too, answer again.
    await waitFor(() => infra.meta.get(naming.partitionsMetaKey), {
      timeoutMs: 15_000,
      description: 'the meta bucket to answer',
    });
    await leader.restart();
    await cluster.waitForHealthy(30_000);
  }, 90_000);
});
