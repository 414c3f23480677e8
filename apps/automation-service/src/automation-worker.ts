import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { LeaseManager, type LeaseHandle, type LeaseItem } from '@cb/leases';
import type { Logger } from '@cb/logging';
import { retryOutages, type RequestMux } from '@cb/nats';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Naming } from '@cb/subjects';
import { ensureTimerConsumer } from './consumers';
import type { FireClient } from './fire-client';
import type { AutomationMetrics } from './metrics';
import { PartitionTimers } from './partition-timers';
import type { TimerRulesCache } from './timer-rules-cache';
import type { WebhookDeliveries } from './webhooks';

export interface AutomationWorkerDeps {
  nc: NatsConnection;
  mux: RequestMux;
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  /** Timer entries, one per token. */
  timersKv: KV;
  /** Partition leases and worker heartbeats. */
  leasesKv: KV;
  rules: TimerRulesCache;
  fire: FireClient;
  metrics: AutomationMetrics;
  logger: Logger;
  workerId: string;
  settings: { leaseTtlMs: number; ackWaitMs: number; fireConcurrency: number };
  /** The webhooks of each partition held are delivered by this worker too. */
  webhooks?: WebhookDeliveries;
}

/**
 * An automation worker: shares the token partitions with the other workers through leases (as
 * the projection workers do) and runs the timers of each partition it holds, and delivers the
 * webhooks whose id falls in it. A killed worker's partitions are taken over once its leases
 * expire; their timers are loaded from the bucket, their webhooks resume at the first event not
 * acknowledged.
 */
export class AutomationWorker {
  private readonly partitions = new Map<number, PartitionTimers>();
  private leases: LeaseManager | null = null;

  constructor(private readonly deps: AutomationWorkerDeps) {}

  get owned(): LeaseItem[] {
    return this.leases?.owned ?? [];
  }

  async start(): Promise<void> {
    const { deps } = this;
    const items = Array.from({ length: deps.naming.partitions }, (_, p) => p);
    for (const p of items) {
      await retryOutages(
        () => ensureTimerConsumer(deps.jsm, deps.naming, p, deps.settings.ackWaitMs),
        { what: `timer consumer of partition ${p}`, logger: deps.logger },
      );
    }
    this.leases = new LeaseManager({
      kv: deps.leasesKv,
      items,
      keys: {
        lease: (item) => deps.naming.leaseKey(1, item),
        worker: (id) => deps.naming.workerKey(id),
        workers: deps.naming.workerKeyFilter,
      },
      generation: 1,
      ttlMs: deps.settings.leaseTtlMs,
      logger: deps.logger.child({ component: 'leases' }),
      workerId: deps.workerId,
      onAcquire: (item, lease) => this.startPartition(item, lease),
      onRevoke: (item) => this.stopPartition(item),
    });
    await this.deps.webhooks?.start();
    await this.leases.start();
  }

  async stop(): Promise<void> {
    await this.leases?.stop();
    await this.deps.webhooks?.stop();
    this.deps.metrics.owned.set(0);
  }

  private startPartition(item: LeaseItem, lease: LeaseHandle): void {
    if (item === 'definitions') return;
    const { deps } = this;
    const timers = new PartitionTimers({
      partition: item,
      naming: deps.naming,
      nc: deps.nc,
      mux: deps.mux,
      js: deps.js,
      kv: deps.timersKv,
      consumer: deps.naming.automationConsumer(item),
      lease,
      rules: deps.rules,
      fire: deps.fire,
      metrics: deps.metrics,
      logger: deps.logger.child({ component: 'timers', partition: item }),
      concurrency: deps.settings.fireConcurrency,
    });
    this.partitions.set(item, timers);
    deps.metrics.owned.set(this.partitions.size);
    deps.webhooks?.acquire(item, lease);
    timers.start().catch((err: unknown) => {
      deps.logger.error({ err, partition: item }, 'partition timers could not start');
    });
  }

  private async stopPartition(item: LeaseItem): Promise<void> {
    if (item === 'definitions') return;
    await this.deps.webhooks?.revoke(item);
    const timers = this.partitions.get(item);
    if (!timers) return;
    this.partitions.delete(item);
    this.deps.metrics.owned.set(this.partitions.size);
    await timers.stop();
  }
}
