import { clusterNodeArgs, clusterNodes, clusterUrl, type ClusterLayout } from './cluster-nodes';

const layout: ClusterLayout = {
  clusterName: 'c',
  host: '127.0.0.1',
  names: ['n1', 'n2', 'n3'],
  storeDirs: ['/s/1', '/s/2', '/s/3'],
  ports: [4001, 4002, 4003],
  clusterPorts: [6001, 6002, 6003],
  monitorPorts: [8001, 8002, 8003],
};

describe('clusterNodes', () => {
  it('routes every node to each of the others, never to itself', () => {
    const nodes = clusterNodes(layout);
    expect(nodes.map((n) => [n.name, n.routes])).toEqual([
      ['n1', [6002, 6003]],
      ['n2', [6001, 6003]],
      ['n3', [6001, 6002]],
    ]);
    expect(nodes[1]).toMatchObject({ port: 4002, clusterPort: 6002, monitorPort: 8002 });
    expect(clusterUrl(nodes)).toBe(
      'nats://127.0.0.1:4001,nats://127.0.0.1:4002,nats://127.0.0.1:4003',
    );
  });

  it('gives nats-server its name, store, monitoring port, cluster name, listen URL and routes', () => {
    expect(clusterNodeArgs(clusterNodes(layout)[2]!)).toEqual([
      ...['-a', '127.0.0.1', '-p', '4003', '-n', 'n3', '-js', '-sd', '/s/3', '-m', '8003'],
      ...['--cluster_name', 'c', '--cluster', 'nats://127.0.0.1:6003'],
      ...['--routes', 'nats://127.0.0.1:6001,nats://127.0.0.1:6002'],
    ]);
  });

  it('refuses a port used twice, a name used twice, missing ports and a single node', () => {
    expect(() => clusterNodes({ ...layout, monitorPorts: [8001, 8002, 4001] })).toThrow(
      'ports must be distinct',
    );
    expect(() => clusterNodes({ ...layout, names: ['a', 'a', 'b'] })).toThrow(
      'names must be distinct',
    );
    expect(() => clusterNodes({ ...layout, ports: [4001, 4002] })).toThrow('at least 2 nodes');
    expect(() =>
      clusterNodes({
        ...layout,
        names: ['n1'],
        storeDirs: ['/s'],
        ports: [1],
        clusterPorts: [2],
        monitorPorts: [3],
      }),
    ).toThrow('at least 2 nodes');
  });
});
