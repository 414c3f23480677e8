import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { clusterNodeArgs, clusterNodes, clusterUrl, freePort } from '@cb/ops';
import { choosePorts, type LocalClusterSize } from './local-cluster';
import type { ChildSpec } from './supervisor';
import { isPortFree, waitForHealthz, waitForPort } from './wait';

const HOST = '127.0.0.1';
const CLUSTER_NAME = 'cb-local';
/** A restarted node is ready once it has caught up: that may take a while after a long outage. */
const NODE_READY_TIMEOUT_MS = 60_000;

/** What every nats-server child of the launcher shares. */
export interface NatsCommon {
  readonly binary: string;
  readonly env: NodeJS.ProcessEnv;
  /** Should the launcher be SIGKILLed, the services stop while NATS still runs. */
  readonly orphanTermDelayMs: number;
  readonly outliveFile: string;
  /** A configuration file (`-c`: users and permissions); the flags after it take precedence. */
  readonly configFile?: string;
}

/** `-c <file>` when the children run a configuration file. */
function configArgs(common: NatsCommon): string[] {
  return common.configFile !== undefined ? ['-c', common.configFile] : [];
}

/** The nats-server children, the NATS_URL they give the services, and lines for the banner. */
export interface NatsPlan {
  readonly specs: ChildSpec[];
  readonly url: string;
  readonly banner: string[];
}

function natsChild(
  common: NatsCommon,
  name: string,
  args: string[],
  readyAt: string,
  ready: ChildSpec['ready'],
): ChildSpec {
  return {
    name,
    command: common.binary,
    args,
    env: common.env,
    // Its clean shutdown either way, but SIGTERM makes it exit 1. (The watchdog starts it with
    // SIGINT ignored, as a background job; its signal handler takes SIGINT back.)
    stopSignal: 'SIGINT',
    orphanTermDelayMs: common.orphanTermDelayMs,
    outliveFile: common.outliveFile,
    readyAt,
    ready,
  };
}

/** One nats-server with JetStream on `port`, its store in `dataDir`; a restart keeps both. */
export function singleServer(common: NatsCommon, port: number, dataDir: string): NatsPlan {
  const args = [
    ...configArgs(common),
    ...['-a', HOST, '-p', String(port), '-js', '-sd', dataDir, '-n', 'cb-local'],
  ];
  return {
    specs: [
      natsChild(common, 'nats-server', args, `${HOST}:${port}`, () =>
        waitForPort(HOST, port, 10_000),
      ),
    ],
    url: `nats://${HOST}:${port}`,
    banner: [`  NATS      nats://${HOST}:${port} (data in ${dataDir})`],
  };
}

/**
 * A JetStream cluster of `nodes` nats-servers on loopback, `nats-1` …: routes between all, the
 * store of node i in `<dataRoot>/nats-<i>`. Client ports are `firstPort` (NATS_PORT) and the
 * next ones, which must be free; without it 4222 … when free, else free ports; route ports
 * 6222 … and monitoring ports 8222 … likewise. A node is ready once its `/healthz` answers 200
 * (in the cluster, current with the meta leader, its streams caught up), after a restart too.
 * Resolves with a message instead when NATS_PORT's range is taken.
 */
export async function localCluster(
  common: NatsCommon,
  nodes: Exclude<LocalClusterSize, 1>,
  dataRoot: string,
  options: {
    /** NATS_PORT. */
    readonly firstPort: number | undefined;
    /** Ports the launcher uses otherwise; the cluster's are added. */
    readonly taken: Set<number>;
    /** CB_STREAM_REPLICAS the services get, for the banner. */
    readonly replicas: string;
  },
): Promise<NatsPlan | string> {
  const { firstPort, taken } = options;
  const names = Array.from({ length: nodes }, (_, i) => `nats-${i + 1}`);
  let ports: number[];
  if (firstPort !== undefined) {
    const wanted = Array.from({ length: nodes }, (_, i) => firstPort + i);
    const busy: number[] = [];
    for (const port of wanted) {
      if (port > 65535 || taken.has(port) || !(await isPortFree(port))) busy.push(port);
    }
    if (busy.length > 0) {
      return (
        `NATS_PORT=${firstPort}: with CB_LOCAL_CLUSTER=${nodes} the nodes listen on ports ` +
        `${firstPort} to ${firstPort + nodes - 1}, and ${busy.join(', ')} ` +
        `${busy.length === 1 ? 'is' : 'are'} not free: choose another NATS_PORT or unset it`
      );
    }
    ports = wanted;
    for (const port of ports) taken.add(port);
  } else {
    ports = await choosePorts(4222, nodes, taken, isPortFree, freePort);
  }
  const configs = clusterNodes({
    clusterName: CLUSTER_NAME,
    host: HOST,
    names,
    storeDirs: names.map((name) => resolve(dataRoot, name)),
    ports,
    clusterPorts: await choosePorts(6222, nodes, taken, isPortFree, freePort),
    monitorPorts: await choosePorts(8222, nodes, taken, isPortFree, freePort),
  });
  for (const node of configs) mkdirSync(node.storeDir, { recursive: true });
  const url = clusterUrl(configs);
  return {
    specs: configs.map((node) => {
      const monitor = `http://${HOST}:${node.monitorPort}`;
      const args = [...configArgs(common), ...clusterNodeArgs(node)];
      return natsChild(common, node.name, args, `${monitor}/healthz`, (child) =>
        waitForHealthz(monitor, NODE_READY_TIMEOUT_MS, () => child.running),
      );
    }),
    url,
    banner: [
      `  NATS      ${url}`,
      `            a ${nodes}-node JetStream cluster (${CLUSTER_NAME}) on loopback, streams and buckets R${options.replicas}:`,
      ...configs.map(
        (node) =>
          `            ${node.name}  nats://${HOST}:${node.port}  monitoring http://${HOST}:${node.monitorPort}  data in ${node.storeDir}`,
      ),
    ],
  };
}
