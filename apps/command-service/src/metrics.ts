import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@cb/ops';

export interface CommandMetrics {
  registry: Registry;
  commands: Counter<'type' | 'outcome'>;
  duration: Histogram<'type'>;
  owned: Gauge;
}

export function createCommandMetrics(): CommandMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  return {
    registry,
    commands: new Counter({
      name: 'cb_commands_total',
      help: 'Commands handled, by command type and outcome (ok or an error code)',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'cb_command_duration_seconds',
      help: 'Time from receiving a command to replying',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    owned: new Gauge({
      name: 'cb_command_owned_items',
      help: 'Partitions (and the definitions) this command service instance owns: it alone writes their events',
      registers: [registry],
    }),
  };
}
