export { startTestNats } from './start-test-nats';
export type { TestNats, StartTestNatsOptions, StopTestNatsOptions } from './test-nats';
export { findNatsServerBinary } from './find-binary';
export { spawnWatched, type SpawnWatchedOptions, type WatchedProcess } from './watchdog';
export { startNatsFaultProxy, type NatsFaultProxy } from './fault-proxy';
