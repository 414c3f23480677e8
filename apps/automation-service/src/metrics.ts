import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '@cb/ops';

/** Why a due timer did not fire (recorded on the timer entry as `lastError`). */
export const REFUSALS = ['guard', 'not-enabled', 'other'] as const;

export interface AutomationMetrics {
  registry: Registry;
  fired: Counter;
  /** Fired more than 1 s after `dueAt`. */
  late: Counter;
  /** Seconds from `dueAt` to the fire's answer. */
  fireDelay: Histogram;
  refused: Counter<'reason'>;
  /** Attempts that could not reach the command service (tried again shortly). */
  fireErrors: Counter;
  owned: Gauge;
  /** Pending timers of the partitions this worker owns, read at every scrape. */
  reportPending(partition: number, pending: () => number): () => void;
  /** Webhook delivery attempts by outcome (delivered, failed, refused, dead-lettered). */
  deliveries: Counter<'outcome'>;
  /** Seconds one delivery attempt took, by outcome. */
  deliveryLatency: Histogram<'outcome'>;
  /** The webhooks this worker delivers, and how many of them are failing, read at every scrape. */
  reportWebhooks(read: () => { active: number; failing: number }): () => void;
}

export function createAutomationMetrics(): AutomationMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const registers = [registry];
  const sources = new Map<number, () => number>();
  new Gauge({
    name: 'cb_automation_timers_pending',
    help: 'pending timers of the partitions this worker owns',
    registers,
    collect() {
      let total = 0;
      for (const read of sources.values()) total += read();
      this.set(total);
    },
  });
  let webhooks: (() => { active: number; failing: number }) | null = null;
  new Gauge({
    name: 'cb_automation_webhooks_active',
    help: 'webhooks this worker delivers (those of the partitions it owns)',
    registers,
    collect() {
      this.set(webhooks?.().active ?? 0);
    },
  });
  new Gauge({
    name: 'cb_automation_webhooks_failing',
    help: 'webhooks of this worker marked failing (WEBHOOK_FAILING_AFTER consecutive failed attempts)',
    registers,
    collect() {
      this.set(webhooks?.().failing ?? 0);
    },
  });
  return {
    registry,
    deliveries: new Counter({
      name: 'cb_automation_webhook_deliveries_total',
      help: 'webhook delivery attempts by outcome (delivered, failed, refused, dead-lettered)',
      labelNames: ['outcome'],
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'cb_automation_webhook_delivery_seconds',
      help: 'seconds one webhook delivery attempt took (connect, send, response), by outcome',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    reportWebhooks(read) {
      webhooks = read;
      return () => {
        if (webhooks === read) webhooks = null;
      };
    },
    fired: new Counter({
      name: 'cb_automation_timers_fired_total',
      help: 'timers fired (the transition written, or found written by an earlier attempt)',
      registers,
    }),
    late: new Counter({
      name: 'cb_automation_timers_late_total',
      help: 'timers fired more than 1 s after they were due',
      registers,
    }),
    fireDelay: new Histogram({
      name: 'cb_automation_timer_delay_seconds',
      help: 'seconds from a timer’s dueAt to its fire being written',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 60],
      registers,
    }),
    refused: new Counter({
      name: 'cb_automation_timers_refused_total',
      help: 'due timers the command service refused (guard failed, transition not enabled), by reason; tried again when the token changes',
      labelNames: ['reason'],
      registers,
    }),
    fireErrors: new Counter({
      name: 'cb_automation_fire_errors_total',
      help: 'fire attempts that could not reach the command service (tried again after 1 s)',
      registers,
    }),
    owned: new Gauge({
      name: 'cb_automation_partitions_owned',
      help: 'partitions whose timers this worker runs',
      registers,
    }),
    reportPending(partition, pending) {
      sources.set(partition, pending);
      return () => {
        if (sources.get(partition) === pending) sources.delete(partition);
      };
    },
  };
}
