export { startTestNats } from './start-test-nats';
export { useTestNats, type SuiteNats } from './use-test-nats';
export type { TestNats, StartTestNatsOptions, StopTestNatsOptions } from './test-nats';
export {
  findNatsServerBinary,
  spawnWatched,
  nodeHealth,
  clusterNodes,
  clusterNodeArgs,
  clusterUrl,
  type SpawnWatchedOptions,
  type WatchedProcess,
  type NodeHealth,
  type JetStreamSummary,
  type ClusterNodeConfig,
  type ClusterLayout,
} from '@cb/ops';
export { startNatsFaultProxy, type NatsFaultProxy } from './fault-proxy';
export { startTestCluster } from './start-test-cluster';
export type { TestCluster, TestClusterNode, StartTestClusterOptions } from './test-cluster';
export { makeTestCertificates, type TestCertificates } from './certificates';
