import type { App } from './app';

/** Prometheus metrics at /metrics: request rate, latency by route, errors by code. */
export function registerHttpMetrics(_app: App): void {
  // Being written (issue 4, item 8).
}
