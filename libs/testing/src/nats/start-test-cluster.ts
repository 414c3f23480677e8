import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JetStreamApiCodes, JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  clusterNodeArgs,
  clusterNodes,
  clusterUrl,
  findNatsServerBinary,
  freePort,
  jetStreamSummary,
  nodeHealth,
  type ClusterNodeConfig,
  type JetStreamSummary,
  type NodeHealth,
  type WatchedProcess,
} from '@cb/ops';
import { onProcessExit } from './exit-cleanup';
import { PortInUseError, launchNats, terminateNats } from './nats-process';
import { noNatsServerError } from './start-test-nats';
import type { StartTestClusterOptions, TestCluster, TestClusterNode } from './test-cluster';

const HOST = '127.0.0.1';
const DEFAULT_NODES = 3;
const MAX_NODES = 9;
const FORM_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 5;
/** One probe of the JetStream API: short, so an election shows as "no leader yet". */
const PROBE_TIMEOUT_MS = 500;
const PROBE_INTERVAL_MS = 50;

/**
 * A JetStream cluster of local nats-server processes (`nodes`, default 3, named `n1` …): free
 * ports, one cluster name, routes between all, a store dir each under one private temp dir. It
 * resolves once every node answers `/healthz` (a meta leader is elected, so streams of any
 * replica count up to `nodes` can be created at once). Every node runs under the watchdog, so
 * the nodes die and the dir goes with the test process even when it is SIGKILLed; always
 * `dispose()` it (afterAll). Needs the nats-server binary; NATS_TEST_URL does not apply.
 */
export async function startTestCluster(
  options: StartTestClusterOptions = {},
): Promise<TestCluster> {
  const count = options.nodes ?? DEFAULT_NODES;
  if (!Number.isInteger(count) || count < 2 || count > MAX_NODES) {
    throw new Error(`a test cluster has 2 to ${MAX_NODES} nodes, not ${count}`);
  }
  const binary = findNatsServerBinary();
  if (!binary) throw noNatsServerError();
  const root = mkdtempSync(join(tmpdir(), 'cb-cluster-'));
  const unregister = onProcessExit(() => rmSync(root, { recursive: true, force: true }));
  const clusterName = `cb_test_${randomBytes(4).toString('hex')}`;
  const names = Array.from({ length: count }, (_, i) => `n${i + 1}`);
  let cluster: BinaryCluster | undefined;
  try {
    for (let attempt = 1; !cluster; attempt++) {
      const ports = await distinctFreePorts(3 * count);
      const configs = clusterNodes({
        clusterName,
        host: HOST,
        names,
        storeDirs: names.map((name) => join(root, name)),
        ports: ports.slice(0, count),
        clusterPorts: ports.slice(count, 2 * count),
        monitorPorts: ports.slice(2 * count),
      });
      const nodes = configs.map((config) => new ClusterNode(binary, config, root));
      const started = await Promise.allSettled(nodes.map((node) => node.start()));
      const failures = started.flatMap((s) => (s.status === 'rejected' ? [s.reason] : []));
      if (failures.length === 0) {
        cluster = new BinaryCluster(clusterName, clusterUrl(configs), nodes, root);
        break;
      }
      await Promise.all(nodes.map((node) => node.kill('SIGKILL')));
      for (const name of names) rmSync(join(root, name), { recursive: true, force: true });
      // Someone took a port between freePort() and the bind: try other ones.
      const retry = failures.every((err) => err instanceof PortInUseError);
      if (!retry || attempt >= PORT_ATTEMPTS) throw failures[0];
    }
    unregister();
    await cluster.waitForHealthy(options.timeoutMs ?? FORM_TIMEOUT_MS);
    return cluster;
  } catch (err) {
    unregister();
    await cluster?.dispose();
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
    throw err;
  }
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

class ClusterNode implements TestClusterNode {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly monitorUrl: string;
  readonly storeDir: string;
  private proc: WatchedProcess | null = null;
  disposed = false;

  constructor(
    private readonly binary: string,
    private readonly config: ClusterNodeConfig,
    /** The whole cluster's dir: the watchdog of any node removes it (see `startTestCluster`). */
    private readonly orphanDir: string,
  ) {
    this.name = config.name;
    this.url = `nats://${config.host}:${config.port}`;
    this.port = config.port;
    this.clusterPort = config.clusterPort;
    this.monitorUrl = `http://${config.host}:${config.monitorPort}`;
    this.storeDir = config.storeDir;
  }

  get pid(): number | null {
    return this.proc?.running ? this.proc.pid : null;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Launch it; resolves once its client port answers with its name. */
  async start(): Promise<void> {
    mkdirSync(this.storeDir, { recursive: true });
    const proc = await launchNats({
      binary: this.binary,
      args: clusterNodeArgs(this.config),
      host: this.config.host,
      port: this.config.port,
      name: this.config.name,
      // Each node's watchdog removes the whole dir once its own node has exited: the last one
      // to do so runs after every node has exited, so nothing is left.
      orphanDir: this.orphanDir,
      jetstream: true,
    });
    if (this.disposed) {
      await terminateNats(proc, 'SIGKILL');
      throw new Error(`test cluster node ${this.name} was disposed during its start`);
    }
    this.proc = proc;
  }

  async kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    await terminateNats(proc, signal);
  }

  async restart(): Promise<void> {
    if (this.disposed) throw new Error(`test cluster node ${this.name} was disposed`);
    await this.kill('SIGTERM');
    await this.start();
  }

  health(): Promise<NodeHealth> {
    return nodeHealth(this.monitorUrl);
  }

  jetStream(options: { streams?: boolean } = {}): Promise<JetStreamSummary> {
    return jetStreamSummary(this.monitorUrl, options);
  }

  /** Synchronous last resort at process exit. */
  killNow(): void {
    if (this.proc?.running) this.proc.kill('SIGKILL');
  }
}

class BinaryCluster implements TestCluster {
  private connection: Promise<NatsConnection> | undefined;
  private disposed = false;
  private readonly unregister: () => void;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly nodes: readonly ClusterNode[],
    private readonly root: string,
  ) {
    this.unregister = onProcessExit(() => {
      for (const node of this.nodes) node.killNow();
      rmSync(this.root, { recursive: true, force: true });
    });
  }

  node(name: string): ClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`test cluster ${this.name} has no node ${name}`);
    return node;
  }

  async leaderOf(stream: string): Promise<string | null> {
    const nc = await this.client();
    try {
      const jsm = await jetstreamManager(nc, { timeout: PROBE_TIMEOUT_MS, checkAPI: false });
      const info = await jsm.streams.info(stream);
      return info.cluster?.leader ?? null;
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) {
        throw err;
      }
      // No answer (no leader, or our connection is moving to another node) or "unavailable".
      return null;
    }
  }

  async waitForLeader(stream: string, timeoutMs = FORM_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leaderOf(stream);
      if (leader !== null && this.nodes.some((n) => n.name === leader && n.running)) return leader;
      if (Date.now() >= deadline) {
        throw new Error(
          `stream ${stream} had no leader among the running nodes after ${timeoutMs} ms`,
        );
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  async metaLeader(): Promise<string | null> {
    for (const node of this.nodes.filter((n) => n.running)) {
      const summary = await node.jetStream().catch(() => null);
      const leader = summary?.meta_cluster?.leader;
      if (leader) return leader;
    }
    return null;
  }

  async waitForHealthy(timeoutMs = FORM_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const down = this.nodes.filter((n) => !n.running).map((n) => n.name);
      if (down.length > 0) {
        throw new Error(`test cluster ${this.name}: ${down.join(', ')} not running`);
      }
      const health = await Promise.all(this.nodes.map((n) => n.health()));
      if (health.every((h) => h.ok)) return;
      if (Date.now() >= deadline) {
        const why = health.flatMap((h, i) => (h.ok ? [] : [`${this.nodes[i]!.name}: ${h.error}`]));
        throw new Error(
          `test cluster ${this.name} not healthy after ${timeoutMs} ms (${why.join('; ')})`,
        );
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const node of this.nodes) node.disposed = true;
    try {
      const connection = this.connection;
      this.connection = undefined;
      await connection?.then((nc) => nc.close()).catch(() => undefined);
      await Promise.all(this.nodes.map((node) => node.kill('SIGKILL')));
    } finally {
      await rm(this.root, { recursive: true, force: true, maxRetries: 3 });
      this.unregister();
    }
  }

  /** One connection to all nodes for the probes, opened on first use. */
  private client(): Promise<NatsConnection> {
    if (this.disposed) return Promise.reject(new Error(`test cluster ${this.name} was disposed`));
    this.connection ??= connect({
      servers: this.nodes.map((n) => n.url),
      name: `test-cluster-probe`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 50,
    });
    const connection = this.connection;
    connection.catch(() => {
      if (this.connection === connection) this.connection = undefined;
    });
    return connection;
  }
}
