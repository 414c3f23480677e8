import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { LeaseHandle } from '@cb/leases';
import type { Logger } from '@cb/logging';
import { compileValidator, WebhookEntry } from '@cb/schemas';
import { partitionOf, type Naming } from '@cb/subjects';
import type { AutomationMetrics } from '../metrics';
import { deleteWebhookConsumer } from './webhook-consumer';
import { WebhookDeliverer, type DeliverySettings } from './webhook-deliverer';

export interface WebhookDeliveriesDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  /** Registrations (written by the webhooks projection). */
  webhooksKv: KV;
  /** Delivery status (written here). */
  statusKv: KV;
  metrics: AutomationMetrics;
  logger: Logger;
  settings: DeliverySettings;
}

const checkEntry = compileValidator(WebhookEntry);

/**
 * The webhooks this worker delivers. It watches the webhooks bucket (every registration, then
 * every change) and runs a deliverer for each live webhook whose partition (`partitionOf` its
 * id) it holds the lease of — the same leases as the timers, so several workers share the
 * webhooks and a dead worker's are taken over. A deleted webhook (tombstone) is stopped and its
 * consumer removed by the partition's owner; its status stays.
 */
export class WebhookDeliveries {
  private readonly entries = new Map<string, WebhookEntry>();
  /** Keys whose registration was deleted outright (not a tombstone): their consumer goes too. */
  private readonly removed = new Map<string, { tenant: string; hookId: string }>();
  private readonly partitions = new Map<number, LeaseHandle>();
  private readonly deliverers = new Map<string, WebhookDeliverer>();
  /** Starts and stops of one webhook, in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Deleted webhooks whose consumer this process removed (nothing recreates one). */
  private readonly cleaned = new Set<string>();
  private watching: Promise<void> = Promise.resolve();
  private iter: { stop(): void } | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private unregister: (() => void) | null = null;

  constructor(private readonly deps: WebhookDeliveriesDeps) {}

  /** Start watching the registrations; resolves once the first watch is set up (or failed once). */
  start(): Promise<void> {
    this.unregister = this.deps.metrics.reportWebhooks(() => ({
      active: this.deliverers.size,
      failing: [...this.deliverers.values()].filter((d) => d.failing).length,
    }));
    let first: () => void = () => undefined;
    const established = new Promise<void>((resolve) => (first = resolve));
    this.watching = this.watch(() => first());
    return established;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.iter?.stop();
    this.wake?.();
    await this.watching;
    for (const p of [...this.partitions.keys()]) await this.revoke(p);
    await Promise.all(this.chains.values());
    this.unregister?.();
  }

  /** A partition's lease was acquired: deliver its webhooks. */
  acquire(partition: number, lease: LeaseHandle): void {
    this.partitions.set(partition, lease);
    for (const [key, entry] of this.entries) {
      if (this.partitionOf(entry.id) === partition) this.reconcile(key);
    }
    for (const [key, r] of this.removed) {
      if (this.partitionOf(r.hookId) === partition) this.reconcile(key);
    }
  }

  /** A partition's lease was revoked: stop its webhooks (their events in hand are redelivered). */
  async revoke(partition: number): Promise<void> {
    this.partitions.delete(partition);
    const keys = [...this.deliverers.keys()].filter(
      (k) => this.partitionOf(this.deliverers.get(k)!.hook.id) === partition,
    );
    await Promise.all(keys.map((k) => this.reconcile(k)));
  }

  private partitionOf(hookId: string): number {
    return partitionOf(hookId, this.deps.naming.partitions);
  }

  private async watch(onFirstAttempt: () => void): Promise<void> {
    const { webhooksKv, logger } = this.deps;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        // Every key's last value, then every change; on a new watch everything is seen again,
        // which reconcile takes as it comes (a running webhook stays running).
        const iter = await webhooksKv.watch({ key: '>' });
        this.iter = iter;
        if (this.stopped) iter.stop();
        onFirstAttempt();
        attempt = 0;
        for await (const e of iter) {
          const [tenant, hookId] = e.key.split('.');
          if (e.operation !== 'PUT') {
            this.entries.delete(e.key);
            if (tenant && hookId) this.removed.set(e.key, { tenant, hookId });
            void this.reconcile(e.key);
            continue;
          }
          const value = e.json<unknown>();
          if (!checkEntry.check(value) || value.id !== hookId || value.tenant !== tenant) {
            logger.warn({ key: e.key }, 'ignoring an invalid webhook entry');
            continue;
          }
          this.entries.set(e.key, value);
          this.removed.delete(e.key);
          void this.reconcile(e.key);
        }
      } catch (err) {
        if (this.stopped) break;
        if (attempt === 0) logger.warn({ err }, 'webhooks watch failed; retrying');
      } finally {
        this.iter = null;
        onFirstAttempt();
      }
      if (!this.stopped) await this.sleep(Math.min(5000, 250 * 2 ** attempt));
    }
  }

  /** Bring one webhook in line with its entry and the partitions held (serially per webhook). */
  private reconcile(key: string): Promise<void> {
    const run = (this.chains.get(key) ?? Promise.resolve())
      .then(() => this.align(key))
      .catch((err: unknown) => {
        this.deps.logger.error({ err, key }, 'webhook could not be started or stopped');
      });
    this.chains.set(key, run);
    void run.finally(() => {
      if (this.chains.get(key) === run) this.chains.delete(key);
    });
    return run;
  }

  private async align(key: string): Promise<void> {
    const { deps } = this;
    const entry = this.entries.get(key);
    const running = this.deliverers.get(key);
    const hookId = entry?.id ?? this.removed.get(key)?.hookId;
    if (hookId === undefined) return;
    const lease = this.partitions.get(this.partitionOf(hookId));
    const live = entry !== undefined && entry.deletedAt === undefined;
    if (running && (!live || !lease || this.stopped || running.hook.seq !== entry.seq)) {
      this.deliverers.delete(key);
      await running.stop();
    }
    if (!lease || this.stopped) return;
    if (!live) {
      // Deleted: its consumer goes (idempotent; the status stays for the API).
      const tenant = entry?.tenant ?? this.removed.get(key)?.tenant;
      if (tenant === undefined || this.cleaned.has(key)) return;
      await deleteWebhookConsumer(deps.jsm, deps.naming, tenant, hookId);
      this.cleaned.add(key);
      deps.logger.info({ webhookId: hookId, tenant }, 'webhook deleted: its consumer removed');
      return;
    }
    if (this.deliverers.has(key)) return;
    const deliverer = new WebhookDeliverer(entry, {
      js: deps.js,
      jsm: deps.jsm,
      naming: deps.naming,
      statusKv: deps.statusKv,
      lease,
      metrics: deps.metrics,
      logger: deps.logger,
      settings: deps.settings,
    });
    this.deliverers.set(key, deliverer);
    deliverer.start();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
