/** Where one node of a nats-server cluster on one host listens and keeps its store. */
export interface ClusterNodeConfig {
  /** Server name, which is also its Raft identity: a restart must keep it. */
  readonly name: string;
  readonly host: string;
  /** Client port. */
  readonly port: number;
  /** Route (cluster) port. */
  readonly clusterPort: number;
  /** HTTP monitoring port (`/healthz`, `/jsz`). */
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly clusterName: string;
  /** Route ports of the other nodes. */
  readonly routes: readonly number[];
}

export interface ClusterLayout {
  readonly clusterName: string;
  readonly host: string;
  readonly names: readonly string[];
  readonly storeDirs: readonly string[];
  /** One of each per node, in the order of `names`. */
  readonly ports: readonly number[];
  readonly clusterPorts: readonly number[];
  readonly monitorPorts: readonly number[];
}

/** The nodes of a full mesh: every node routes to every other one. */
export function clusterNodes(layout: ClusterLayout): ClusterNodeConfig[] {
  const n = layout.names.length;
  const lists = [layout.storeDirs, layout.ports, layout.clusterPorts, layout.monitorPorts];
  if (n < 2 || lists.some((list) => list.length !== n)) {
    throw new Error(`a cluster needs at least 2 nodes and one store dir and 3 ports for each`);
  }
  const ports = [...layout.ports, ...layout.clusterPorts, ...layout.monitorPorts];
  if (new Set(ports).size !== ports.length) throw new Error(`cluster ports must be distinct`);
  if (new Set(layout.names).size !== n) throw new Error(`server names must be distinct`);
  return layout.names.map((name, i) => ({
    name,
    host: layout.host,
    port: layout.ports[i]!,
    clusterPort: layout.clusterPorts[i]!,
    monitorPort: layout.monitorPorts[i]!,
    storeDir: layout.storeDirs[i]!,
    clusterName: layout.clusterName,
    routes: layout.clusterPorts.filter((_, j) => j !== i),
  }));
}

/** nats-server arguments for one node: JetStream on its store, routes to the others. */
export function clusterNodeArgs(node: ClusterNodeConfig): string[] {
  return [
    '-a',
    node.host,
    '-p',
    String(node.port),
    '-n',
    node.name,
    '-js',
    '-sd',
    node.storeDir,
    '-m',
    String(node.monitorPort),
    '--cluster_name',
    node.clusterName,
    '--cluster',
    `nats://${node.host}:${node.clusterPort}`,
    '--routes',
    node.routes.map((port) => `nats://${node.host}:${port}`).join(','),
  ];
}

/** The client URLs of all nodes, comma-separated, as NATS_URL takes them. */
export function clusterUrl(nodes: readonly ClusterNodeConfig[]): string {
  return nodes.map((node) => `nats://${node.host}:${node.port}`).join(',');
}
