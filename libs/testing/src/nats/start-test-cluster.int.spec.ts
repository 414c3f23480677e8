import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { isAlive, startScriptChild } from '../processes';
import { waitFor } from '../wait-for';
import { readServerInfo } from './server-info';
import { startTestCluster } from './start-test-cluster';
import type { TestCluster } from './test-cluster';

/**
 * How long JetStream on nats-server 2.9.10 takes to elect a new stream leader after the leader
 * is SIGKILLed: a follower waits a random 4 to 9 s of Raft election timeout without heartbeats,
 * then wins a vote in milliseconds. Measured 4.4–8.5 s over 16 kills; the bound leaves room for a
 * loaded machine.
 */
const NEW_LEADER_WITHIN_MS = 12_000;

async function routeCount(monitorUrl: string): Promise<number> {
  const res = await fetch(`${monitorUrl}/routez`, { signal: AbortSignal.timeout(2000) });
  return ((await res.json()) as { num_routes: number }).num_routes;
}

describe('startTestCluster', () => {
  let cluster: TestCluster;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const stream = 'CLUSTER_TEST';
  let published = 0;

  beforeAll(async () => {
    cluster = await startTestCluster();
    nc = await connect({ servers: cluster.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    jsm = await jetstreamManager(nc);
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.dispose();
  });

  /** Publish `count` messages, retrying each through an election; the last seq. */
  async function publish(count: number): Promise<number> {
    const js = jetstream(nc, { timeout: 1000 });
    let seq = 0;
    for (let i = 0; i < count; i++) {
      const ack = await waitFor(() => js.publish(`${stream}.m`, `message ${published + 1}`), {
        timeoutMs: 20_000,
        intervalMs: 100,
        description: 'a publish to be acknowledged',
      });
      published++;
      seq = ack.seq;
    }
    return seq;
  }

  it('three nodes n1..n3 form one cluster: routes between all, one meta leader they agree on', async () => {
    expect(cluster.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(cluster.url).toBe(cluster.nodes.map((n) => n.url).join(','));
    const ports = cluster.nodes.flatMap((n) => [n.port, n.clusterPort, new URL(n.monitorUrl).port]);
    expect(new Set(ports.map(String)).size).toBe(9);
    expect(cluster.nodes.map((n) => n.port)).not.toContain(4222);
    for (const node of cluster.nodes) {
      expect(node.url).toBe(`nats://127.0.0.1:${node.port}`);
      expect(node.running).toBe(true);
      expect(isAlive(node.pid!)).toBe(true);
      expect(existsSync(node.storeDir)).toBe(true);
      const info = await readServerInfo('127.0.0.1', node.port);
      expect({ name: info.server_name, js: info.jetstream }).toEqual({ name: node.name, js: true });
      expect(await routeCount(node.monitorUrl)).toBe(2);
      expect(await node.health()).toEqual({ ok: true });
    }
    expect(new Set(cluster.nodes.map((n) => dirname(n.storeDir))).size).toBe(1);
    const leaders = await Promise.all(
      cluster.nodes.map(async (n) => (await n.jetStream()).meta_cluster),
    );
    const meta = await cluster.metaLeader();
    expect(['n1', 'n2', 'n3']).toContain(meta);
    for (const m of leaders) expect(m).toMatchObject({ leader: meta, cluster_size: 3 });
    expect(cluster.node('n2').name).toBe('n2');
    expect(() => cluster.node('n4')).toThrow(/has no node n4/);
  });

  it('serves an R3 stream at once: replicated to all three nodes, leader from STREAM.INFO', async () => {
    const created = await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      num_replicas: 3,
      storage: 'file',
    });
    expect(created.config.num_replicas).toBe(3);
    expect(await publish(10)).toBe(10);
    const leader = await cluster.waitForLeader(stream, 5000);
    const info = await jsm.streams.info(stream);
    expect(info.cluster?.leader).toBe(leader);
    expect(info.cluster?.replicas?.map((r) => r.name).sort()).toEqual(
      ['n1', 'n2', 'n3'].filter((n) => n !== leader),
    );
    await cluster.waitForHealthy(10_000);
    for (const node of cluster.nodes) {
      const replica = (await node.jetStream({ streams: true })).account_details
        ?.flatMap((a) => a.stream_detail ?? [])
        .find((s) => s.name === stream);
      expect({ node: node.name, state: replica?.state }).toMatchObject({
        node: node.name,
        state: { messages: 10, last_seq: 10 },
      });
    }
    await expect(cluster.leaderOf('NO_SUCH_STREAM')).rejects.toThrow(/stream not found/);
  }, 30_000);

  let killed: { name: string; pid: number; port: number } | undefined;

  it(`SIGKILL of the stream leader: another node leads within ${NEW_LEADER_WITHIN_MS / 1000} s and writes go on`, async () => {
    const leader = cluster.node(await cluster.waitForLeader(stream, 5000));
    killed = { name: leader.name, pid: leader.pid!, port: leader.port };
    const t0 = performance.now();
    await leader.kill('SIGKILL');
    expect(leader.running).toBe(false);
    expect(leader.pid).toBeNull();
    expect(isAlive(killed.pid)).toBe(false);
    await expect(cluster.waitForHealthy(1000)).rejects.toThrow(`${leader.name} not running`);

    const next = await cluster.waitForLeader(stream, NEW_LEADER_WITHIN_MS);
    const electedMs = performance.now() - t0;
    expect(next).not.toBe(leader.name);
    const seq = await publish(1);
    const writableMs = performance.now() - t0;
    expect(seq).toBe(11);
    expect(electedMs).toBeLessThan(NEW_LEADER_WITHIN_MS);
    process.stdout.write(
      `stream leader ${leader.name} SIGKILLed: ${next} leads after ${Math.round(electedMs)} ms, ` +
        `first write acknowledged after ${Math.round(writableMs)} ms\n`,
    );
  }, 60_000);

  it('restart() brings the node back on its store and ports, and it catches up', async () => {
    expect(killed).toBeDefined();
    const node = cluster.node(killed!.name);
    // Written while it was down: it can only have these from the others.
    const last = await publish(40);
    expect(last).toBe(51);
    await node.restart();
    expect(node.running).toBe(true);
    expect(node.pid).not.toBe(killed!.pid);
    expect(node.port).toBe(killed!.port);
    expect((await readServerInfo('127.0.0.1', node.port)).server_name).toBe(node.name);
    await cluster.waitForHealthy(30_000);
    expect(await routeCount(node.monitorUrl)).toBe(2);
    const replica = await waitFor(
      async () => {
        const state = (await node.jetStream({ streams: true })).account_details
          ?.flatMap((a) => a.stream_detail ?? [])
          .find((s) => s.name === stream)?.state;
        return state?.last_seq === last ? state : undefined;
      },
      { timeoutMs: 10_000, description: `${node.name} to hold every message` },
    );
    expect(replica).toMatchObject({ messages: 51, last_seq: 51 });
    // A graceful stop and restart too.
    await node.kill('SIGTERM');
    expect(node.running).toBe(false);
    await node.restart();
    await cluster.waitForHealthy(30_000);
  }, 90_000);

  it('dispose() leaves no process and no directory; twice is fine', async () => {
    const pids = cluster.nodes.map((n) => n.pid!);
    const root = dirname(cluster.nodes[0]!.storeDir);
    expect(pids.every(isAlive)).toBe(true);
    await nc.close();
    await cluster.dispose();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(root)).toBe(false);
    expect(cluster.nodes.map((n) => n.running)).toEqual([false, false, false]);
    await cluster.dispose();
    await expect(cluster.node('n1').restart()).rejects.toThrow(/disposed/);
    await expect(cluster.leaderOf(stream)).rejects.toThrow(/disposed/);
  }, 30_000);
});

describe('startTestCluster options', () => {
  it('refuses fewer than 2 or more than 9 nodes', async () => {
    await expect(startTestCluster({ nodes: 1 })).rejects.toThrow('2 to 9 nodes, not 1');
    await expect(startTestCluster({ nodes: 10 })).rejects.toThrow('2 to 9 nodes, not 10');
  });

  it('five nodes form a cluster too, and an R5 stream works', async () => {
    const five = await startTestCluster({ nodes: 5 });
    try {
      expect(five.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
      const conn = await connect({ servers: five.url });
      const manager = await jetstreamManager(conn);
      await manager.streams.add({ name: 'FIVE', subjects: ['five.>'], num_replicas: 5 });
      expect((await jetstream(conn).publish('five.x', 'x')).seq).toBe(1);
      const info = await manager.streams.info('FIVE');
      expect(info.cluster?.replicas).toHaveLength(4);
      await conn.close();
    } finally {
      await five.dispose();
    }
  }, 60_000);
});

/*
 * A test process can die without running afterAll: SIGKILLed (each node's watchdog stops it
 * and removes the cluster's dir) or exiting early (the exit hook does). Simulate both.
 */
const CHILD = `
const { startTestCluster } = require(${JSON.stringify(join(__dirname, 'start-test-cluster.ts'))});
startTestCluster().then((cluster) => {
  const pids = cluster.nodes.map((n) => n.pid);
  const root = require('node:path').dirname(cluster.nodes[0].storeDir);
  process.stdout.write(JSON.stringify({ pids, root }) + '\\n');
  if (process.argv[1] === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
});
`;

describe('test cluster orphan protection', () => {
  it.each([
    ['is SIGKILLed', 'hang'],
    ['exits without dispose()', 'exit'],
  ] as const)(
    'every node dies and the dir goes when the test process %s',
    async (_what, mode) => {
      const { child, started, exited } = startScriptChild<{ pids: number[]; root: string }>(
        CHILD,
        mode,
      );
      const { pids, root } = await started;
      expect(pids).toHaveLength(3);
      if (mode === 'hang') {
        // (An exiting child may be gone already.)
        expect(pids.every(isAlive)).toBe(true);
        expect(existsSync(root)).toBe(true);
        child.kill('SIGKILL');
      }
      await exited;
      await waitFor(() => pids.every((pid) => !isAlive(pid)) && !existsSync(root), {
        timeoutMs: 15_000,
        description: `nodes ${pids.join(', ')} to die and ${root} to go`,
      });
    },
    60_000,
  );
});
