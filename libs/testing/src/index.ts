export {
  startTestNats,
  useTestNats,
  type SuiteNats,
  makeTestCertificates,
  startNatsFaultProxy,
  startTestCluster,
  findNatsServerBinary,
  clusterNodes,
  clusterNodeArgs,
  clusterUrl,
  nodeHealth,
  spawnWatched,
  type NatsFaultProxy,
  type TestNats,
  type TestCertificates,
  type TestCluster,
  type TestClusterNode,
  type StartTestClusterOptions,
  type ClusterNodeConfig,
  type ClusterLayout,
  type NodeHealth,
  type JetStreamSummary,
  type StartTestNatsOptions,
  type StopTestNatsOptions,
  type SpawnWatchedOptions,
  type WatchedProcess,
} from './nats';
export * from './services';
export { uniqueNaming } from './unique-naming';
export { waitFor, type WaitForOptions } from './wait-for';
export {
  FIXTURES_DIR,
  FIXTURE_WORKFLOWS,
  loadFixtureWorkflow,
  type FixtureWorkflowName,
} from './fixtures';
export { freePort } from '@cb/ops';
export {
  EventGenerator,
  readBucket,
  prng,
  type EventSink,
  type GeneratorOptions,
  type GeneratorResult,
} from './events';
export { isAlive, startScriptChild } from './processes';
export {
  REDOS_GUARD,
  REDOS_INPUT,
  HOSTILE_GUARD,
  HOSTILE_DATA,
  HOSTILE_GUARD_CHEAP_DATA,
  doublingChainGuard,
  guardedWorkflow,
  pingPongWorkflow,
} from './hostile-guards';
export {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  SCREENSHOT_DIR,
  TestBrowser,
  VIEWPORTS,
  launchBrowser,
  saveScreenshots,
  scrollsHorizontally,
  unnamedControls,
  type PageProblems,
  type ViewportName,
  type WatchedPage,
} from './browser';
