import { Gauge, collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * What every service's process metrics start with (`cb_process_cpu_user_seconds_total`,
 * `cb_nodejs_heap_size_used_bytes`, …): the same names on every service, told apart by the
 * scrape's `job`/`instance`, and none collides with another exporter's on the same host.
 */
export const PROCESS_METRICS_PREFIX = 'cb_';

/** prom-client's default process and Node.js metrics on `registry`, as every service has them. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: PROCESS_METRICS_PREFIX });
}

export interface ScrapedGaugeOptions {
  name: string;
  help: string;
  /** The one label that tells the samples apart. */
  label: string;
  registry: Registry;
  /** The samples to read, by label value, at every scrape. */
  sources: () => Iterable<readonly [string, () => Promise<number>]>;
}

/**
 * A gauge whose samples are read (asynchronously, all at once) at every scrape. A source that
 * fails (NATS unreachable) has no sample in that scrape rather than a stale one.
 */
export function scrapedGauge(o: ScrapedGaugeOptions): Gauge {
  return new Gauge({
    name: o.name,
    help: o.help,
    labelNames: [o.label],
    registers: [o.registry],
    async collect() {
      const sources = [...o.sources()];
      const values = await Promise.all(sources.map(([, read]) => read().catch(() => undefined)));
      this.reset();
      sources.forEach(([value], i) => {
        const sampled = values[i];
        if (sampled !== undefined) this.set({ [o.label]: value }, sampled);
      });
    },
  });
}
