import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ProjectionMetrics {
  registry: Registry;
  applied: Counter<'item'>;
  skipped: Counter<'item'>;
  deadLetters: Counter<'kind'>;
  pending: Gauge<'item'>;
  lastAppliedSeq: Gauge<'item'>;
  owned: Gauge;
  generation: Gauge;
  batchSeconds: Histogram;
}

export function createProjectionMetrics(): ProjectionMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cb_projection_service_' });
  const r = [registry];
  return {
    registry,
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
    deadLetters: new Counter({
      name: 'cb_projection_dead_letters_total',
      help: 'Events written to the dead-letter stream, by kind',
      labelNames: ['kind'],
      registers: r,
    }),
    pending: new Gauge({
      name: 'cb_projection_pending_events',
      help: 'Events waiting in the partition consumer (consumer lag)',
      labelNames: ['item'],
      registers: r,
    }),
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
