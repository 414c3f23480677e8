import type { PartitionWatermark } from '@cb/schemas';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { KV, Kvm } from '@nats-io/kv';
import { retryOutages, type EventStore, type LeanKv, type RequestMux } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { Naming } from '@cb/subjects';
import type { DecodedDefinitionEvent, DecodedTokenEvent } from './batch';
import { consumerName, ensureConsumer, itemFilter, type WorkItem } from './consumers';
import { DeadLetters } from './dead-letters';
import { definitionDecoder, tokenDecoder } from './decode';
import { DefinitionsApplier } from './definitions-applier';
import { LeaseManager, type LeaseHandle, type RevokeReason } from '@cb/leases';
import type { FailureState } from './failure-streak';
import type { ProjectionMetrics } from './metrics';
import { PartitionRunner } from './partition-runner';
import { ensureReadModels, type ReadModels } from './read-models';
import { SearchAttributes } from './search-attributes';
import { TokenApplier } from './token-applier';

export interface ProjectorSettings {
  batchSize: number;
  leaseTtlMs: number;
  ackWaitMs: number;
  maxAttempts: number;
  replicas: number;
}

export interface ProjectorDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  kvm: Kvm;
  mux: RequestMux;
  /** Direct reads of the event stream. */
  store: EventStore;
  naming: Naming;
  /** Leases and heartbeats (nats.js KV) and watermarks (lean writer) in the projector bucket. */
  projectorKv: KV;
  projectorLean: LeanKv;
  metrics: ProjectionMetrics;
  logger: Logger;
  workerId: string;
  settings: ProjectorSettings;
  /** Take every lease regardless of the share (the rebuild runs alone on its generation). */
  claimAll?: boolean;
}

type Runner = PartitionRunner<DecodedTokenEvent> | PartitionRunner<DecodedDefinitionEvent>;

export type PartitionFailing = { item: WorkItem } & FailureState;

/** The work of one read-model generation: buckets, consumers, leases and a runner per lease. */
export class Projector {
  private readonly runners = new Map<WorkItem, Runner>();
  private leases: LeaseManager | null = null;
  private models: ReadModels | null = null;
  private attributes: SearchAttributes | null = null;

  constructor(
    private readonly deps: ProjectorDeps,
    readonly generation: number,
  ) {}

  get owned(): WorkItem[] {
    return this.leases?.owned ?? [];
  }

  /** The partitions it runs whose attempts keep failing, with since when and the last error. */
  failing(): PartitionFailing[] {
    const out: PartitionFailing[] = [];
    for (const [item, runner] of this.runners) {
      const f = runner.failing;
      if (f) out.push({ item, ...f });
    }
    return out;
  }

  async start(): Promise<void> {
    const { deps, generation } = this;
    const { naming, settings } = deps;
    this.models = await ensureReadModels(
      deps.kvm,
      deps.mux,
      naming,
      generation,
      settings.replicas,
      deps.logger,
    );
    this.attributes = new SearchAttributes(this.models.workflows, deps.store, naming);
    const items: WorkItem[] = [
      ...Array.from({ length: naming.partitions }, (_, p) => p),
      'definitions',
    ];
    for (const item of items) {
      await retryOutages(
        () =>
          ensureConsumer(deps.jsm, naming, generation, item, {
            ackWaitMs: settings.ackWaitMs,
            batchSize: settings.batchSize,
          }),
        { what: `consumer of ${String(item)}`, logger: deps.logger },
      );
    }
    this.leases = new LeaseManager({
      kv: deps.projectorKv,
      items,
      keys: {
        lease: (item) => naming.leaseKey(generation, item),
        worker: (id) => naming.workerKey(id),
        workers: naming.workerKeyFilter,
      },
      generation,
      ttlMs: settings.leaseTtlMs,
      logger: deps.logger.child({ component: 'leases', generation }),
      workerId: deps.workerId,
      ...(deps.claimAll ? { share: () => items.length } : {}),
      onAcquire: (item, lease) => this.startRunner(item, lease),
      onRevoke: (item, reason) => this.stopRunner(item, reason),
    });
    void this.leases.start();
  }

  async stop(): Promise<void> {
    await this.leases?.stop();
    this.deps.metrics.owned.set(0);
  }

  private startRunner(item: WorkItem, lease: LeaseHandle): void {
    const { deps, generation } = this;
    const models = this.models!;
    const consumer = consumerName(deps.naming, generation, item);
    const logger = deps.logger.child({ component: 'runner', item, generation });
    const deadLetters = new DeadLetters(deps.mux, deps.naming, consumer, deps.metrics, logger);
    const common = {
      js: deps.js,
      stream: deps.naming.stream,
      consumer,
      item,
      lease,
      deadLetters,
      batchSize: deps.settings.batchSize,
      maxAttempts: deps.settings.maxAttempts,
      retryDelayMs: deps.settings.ackWaitMs,
      metrics: deps.metrics,
      logger,
      timeLag: (seq: number) => deps.store.lagSeconds(itemFilter(deps.naming, item), seq),
      watermark: async (seq: number) => {
        const mark: PartitionWatermark = { seq, at: new Date().toISOString() };
        await deps.projectorLean.put(deps.naming.watermarkKey(generation, item), mark);
      },
    };
    const runner: Runner =
      item === 'definitions'
        ? new PartitionRunner<DecodedDefinitionEvent>({
            ...common,
            applier: new DefinitionsApplier(models, deps.naming),
            decode: definitionDecoder(deps.naming),
          })
        : new PartitionRunner<DecodedTokenEvent>({
            ...common,
            applier: new TokenApplier({
              models,
              naming: deps.naming,
              partition: item,
              store: deps.store,
              deadLetters,
              mayWrite: () => lease.valid(),
              attributes: this.attributes!,
            }),
            decode: tokenDecoder(deps.naming, item),
          });
    this.runners.set(item, runner);
    deps.metrics.owned.set(this.runners.size);
    runner.start();
  }

  private async stopRunner(item: WorkItem, reason: RevokeReason): Promise<void> {
    const runner = this.runners.get(item);
    if (!runner) return;
    this.runners.delete(item);
    this.deps.metrics.owned.set(this.runners.size);
    await runner.stop(reason === 'lost' ? 'abandon' : 'graceful');
  }
}
