import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics, scrapedGauge } from '@cb/ops';
import { DEAD_LETTER_KINDS } from './dead-letters';

/** What a running partition reports about its lag, read at every scrape. */
export interface PartitionLag {
  /** Events delivered to the worker and not yet applied, plus those still in the consumer. */
  pending: number;
  /** Stream time (ms since the epoch) of the oldest delivered event not yet applied, or null. */
  oldestUnappliedAt: number | null;
  /** Since when its attempts keep failing (ms since the epoch), or null while it applies. */
  failingSince: number | null;
}

export interface ProjectionMetrics {
  registry: Registry;
  applied: Counter<'item'>;
  skipped: Counter<'item'>;
  deadLetters: Counter<'kind'>;
  /** Failed attempts to apply a batch, by partition and failure kind. */
  failures: Counter<'item' | 'kind'>;
  lastAppliedSeq: Gauge<'item'>;
  owned: Gauge;
  generation: Gauge;
  batchSeconds: Histogram;
  /**
   * The lag gauges (pending, oldest unapplied age, failing seconds) of the partitions this
   * worker runs, read from each at every scrape; `timeLag` (asked of NATS at every scrape) gives
   * the time-based lag behind the stream. Returns the unregister function.
   */
  reportLag(item: string, lag: () => PartitionLag, timeLag?: () => Promise<number>): () => void;
}

export function createProjectionMetrics(): ProjectionMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const r = [registry];
  const sources = new Map<string, () => PartitionLag>();
  const timeLags = new Map<string, () => Promise<number>>();
  /** A gauge per running partition, computed from its lag at scrape time. */
  const lagGauge = (name: string, help: string, value: (lag: PartitionLag) => number): Gauge =>
    new Gauge({
      name,
      help,
      labelNames: ['item'],
      registers: r,
      collect() {
        this.reset();
        for (const [item, lag] of sources) this.set({ item }, value(lag()));
      },
    });
  const secondsSince = (at: number | null): number =>
    at === null ? 0 : Math.max(0, (Date.now() - at) / 1000);
  lagGauge(
    'cb_projection_pending_events',
    'Events of the partition not yet applied: delivered to this worker, or still in its consumer (consumer lag)',
    (lag) => lag.pending,
  );
  lagGauge(
    'cb_projection_oldest_unapplied_age_seconds',
    'Age (from its stream timestamp) of the oldest event delivered to this worker and not yet applied: time-based lag, 0 when caught up',
    (lag) => secondsSince(lag.oldestUnappliedAt),
  );
  lagGauge(
    'cb_projection_failing_seconds',
    'How long the partition has been retrying failed attempts (an outage, or an event on its way to the dead letters); 0 while it applies',
    (lag) => secondsSince(lag.failingSince),
  );
  const deadLetters = new Counter({
    name: 'cb_projection_dead_letters_total',
    help: 'Events written to the dead-letter stream, by kind',
    labelNames: ['kind'],
    registers: r,
  });
  // Every kind has its series from the start, so `increase()` and alerts see the first one.
  for (const kind of DEAD_LETTER_KINDS) deadLetters.inc({ kind }, 0);
  scrapedGauge({
    name: 'cb_projection_lag_seconds',
    help: "Time-based lag behind the stream: seconds between the stream time of the partition's last event and that of the last event applied (its watermark); 0 when caught up",
    label: 'item',
    registry,
    sources: () => timeLags,
  });
  return {
    registry,
    reportLag(item, lag, timeLag) {
      sources.set(item, lag);
      if (timeLag) timeLags.set(item, timeLag);
      return () => {
        if (sources.get(item) === lag) sources.delete(item);
        if (timeLags.get(item) === timeLag) timeLags.delete(item);
      };
    },
    failures: new Counter({
      name: 'cb_projection_batch_failures_total',
      help: 'Failed attempts to apply a batch, by partition and kind (transient: an outage, retried as long as it lasts; deterministic: counts towards PROJECTION_MAX_ATTEMPTS)',
      labelNames: ['item', 'kind'],
      registers: r,
    }),
    applied: new Counter({
      name: 'cb_projection_events_applied_total',
      help: 'Events applied to the read models, by partition (or "definitions")',
      labelNames: ['item'],
      registers: r,
    }),
    skipped: new Counter({
      name: 'cb_projection_events_skipped_total',
      help: 'Events skipped as already applied (redeliveries, duplicates)',
      labelNames: ['item'],
      registers: r,
    }),
    deadLetters,
    lastAppliedSeq: new Gauge({
      name: 'cb_projection_last_applied_seq',
      help: 'Stream sequence of the last event applied, by partition',
      labelNames: ['item'],
      registers: r,
    }),
    owned: new Gauge({
      name: 'cb_projection_partitions_owned',
      help: 'Partitions (and the definitions) this worker holds leases on',
      registers: r,
    }),
    generation: new Gauge({
      name: 'cb_projection_generation',
      help: 'Read-model generation this worker writes',
      registers: r,
    }),
    batchSeconds: new Histogram({
      name: 'cb_projection_batch_duration_seconds',
      help: 'Time to apply and acknowledge one batch',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    }),
  };
}
