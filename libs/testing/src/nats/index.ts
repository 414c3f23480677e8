export { startTestNats } from './start-test-nats';
export type { TestNats, StartTestNatsOptions, StopTestNatsOptions } from './test-nats';
export { findNatsServerBinary } from './find-binary';
export { spawnWatched, type SpawnWatchedOptions, type WatchedProcess } from './watchdog';
export { startNatsFaultProxy, type NatsFaultProxy } from './fault-proxy';
export { startTestCluster } from './start-test-cluster';
export type { TestCluster, TestClusterNode, StartTestClusterOptions } from './test-cluster';
export { nodeHealth, type NodeHealth, type JetStreamSummary } from './monitor';
export {
  clusterNodes,
  clusterNodeArgs,
  clusterUrl,
  type ClusterNodeConfig,
  type ClusterLayout,
} from './cluster-nodes';
export { makeTestCertificates, type TestCertificates } from './certificates';
