export {
  startOpsServer,
  type OpsServer,
  type OpsServerOptions,
  type ReadinessCheck,
} from './ops-server';
export { onShutdownSignal, exitOnStartupError } from './shutdown';
export { bootstrap } from './bootstrap';
export { boundedProbe } from './bounded-probe';
export {
  collectProcessMetrics,
  scrapedGauge,
  PROCESS_METRICS_PREFIX,
  type ScrapedGaugeOptions,
} from './process-metrics';
// Running nats-server and the services on this machine: npm start (tools/stack) uses these, and
// the test harness (@cb/testing) builds on them; no test code is needed to launch the stack.
export { freePort } from './local/free-port';
export { findNatsServerBinary } from './local/find-binary';
export { spawnWatched, type SpawnWatchedOptions, type WatchedProcess } from './local/watchdog';
export {
  jetStreamSummary,
  nodeHealth,
  type NodeHealth,
  type JetStreamSummary,
} from './local/monitor';
export {
  clusterNodes,
  clusterNodeArgs,
  clusterUrl,
  type ClusterNodeConfig,
  type ClusterLayout,
} from './local/cluster-nodes';
// Outbound requests to user-given URLs (webhooks): refuse loopback, private and metadata targets.
export {
  isBlockedAddress,
  checkTargetUrl,
  guardedLookup,
  OutboundRefusedError,
  MAX_TARGET_URL_LENGTH,
  type CheckTargetOptions,
  type ResolveAll,
  type TargetCheck,
  type OutboundRefusalCode,
} from './outbound';
