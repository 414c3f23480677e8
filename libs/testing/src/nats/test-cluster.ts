import type { JetStreamSummary, NodeHealth } from '@cb/ops';

/** A JetStream cluster of local nats-server processes for tests; see `startTestCluster`. */
export interface TestCluster {
  /** Client URLs of every node, comma-separated, ready for NATS_URL or `connect({ servers })`. */
  readonly url: string;
  /** The cluster name all nodes share. */
  readonly name: string;
  /** Its nodes, `n1`, `n2`, … in order. */
  readonly nodes: readonly TestClusterNode[];
  /** The node with that server name; throws for an unknown one. */
  node(name: string): TestClusterNode;
  /**
   * Server name of the stream's leader, from the stream's info (`jsApiStreamInfo(stream)`) (`cluster.leader`),
   * or null while no leader answers (during an election). Throws when the stream does not exist.
   */
  leaderOf(stream: string): Promise<string | null>;
  /** Wait until a running node leads the stream; its name. */
  waitForLeader(stream: string, timeoutMs?: number): Promise<string>;
  /** Server name of the JetStream meta leader as a running node sees it, or null. */
  metaLeader(): Promise<string | null>;
  /**
   * Wait until every node runs and answers `/healthz` 200: a meta leader is elected, the node is
   * current with it, and every stream and consumer it hosts is current. Throws at once when a
   * node is not running (restart it first).
   */
  waitForHealthy(timeoutMs?: number): Promise<void>;
  /** Kill every node and remove every store dir; idempotent. */
  dispose(): Promise<void>;
}

export interface TestClusterNode {
  /** Server name (`n1` …), its identity in the cluster. */
  readonly name: string;
  /** `nats://127.0.0.1:<port>`: this node alone. */
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  /** `http://127.0.0.1:<monitoring port>`. */
  readonly monitorUrl: string;
  readonly storeDir: string;
  /** pid of its nats-server while it runs, else null. */
  readonly pid: number | null;
  readonly running: boolean;
  /**
   * Signal it (default SIGKILL: a crash) and wait until it has exited; SIGTERM is followed by
   * SIGKILL after 10 s. Keeps its store. A no-op when it is not running.
   */
  kill(signal?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /**
   * Start it again on its own store and ports (stopping it gracefully first when it runs);
   * resolves once it accepts clients. It catches up with the cluster afterwards: await
   * `waitForHealthy()` for that.
   */
  restart(): Promise<void>;
  /** Its `/healthz`. */
  health(): Promise<NodeHealth>;
  /** Its `/jsz`; with `streams`, the state of each stream replica it holds. */
  jetStream(options?: { streams?: boolean }): Promise<JetStreamSummary>;
}

export interface StartTestClusterOptions {
  /** Nodes (default 3; 2 to 9). */
  readonly nodes?: number;
  /** Bound on forming the cluster and electing a meta leader (default 30 s). */
  readonly timeoutMs?: number;
}
