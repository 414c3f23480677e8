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
