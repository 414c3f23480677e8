import type { KV } from '@nats-io/kv';
import type { Logger } from '@cb/logging';
import type { Naming } from '@cb/subjects';
import { currentGeneration, watchGeneration } from './generation';
import { Projector, type PartitionFailing, type ProjectorDeps } from './projector';

/**
 * A projection worker: runs the projector of the generation readers follow, and moves to the
 * next one when a rebuild switches the pointer (finishing its batches and handing its old
 * leases back first).
 */
export class ProjectionWorker {
  private projector: Projector | null = null;
  private watch: { stop(): void } | null = null;
  private switching: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: ProjectorDeps,
    private readonly meta: KV,
    private readonly naming: Naming,
    private readonly logger: Logger,
  ) {}

  get generation(): number | null {
    return this.projector?.generation ?? null;
  }

  get owned(): Array<number | 'definitions'> {
    return this.projector?.owned ?? [];
  }

  /** Owned partitions whose attempts keep failing (an outage, or an event being dead-lettered). */
  failing(): PartitionFailing[] {
    return this.projector?.failing() ?? [];
  }

  async start(): Promise<void> {
    const pointer = await currentGeneration(this.meta, this.naming);
    await this.switchTo(pointer.generation);
    this.watch = await watchGeneration(this.meta, this.naming, (p) => {
      this.switching = this.switching
        .then(() => this.switchTo(p.generation))
        .catch((err: unknown) => {
          this.logger.error({ err }, 'could not switch read-model generation');
        });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watch?.stop();
    await this.switching;
    await this.projector?.stop();
    this.projector = null;
  }

  private async switchTo(generation: number): Promise<void> {
    if (this.stopped || this.projector?.generation === generation) return;
    if (this.projector) {
      this.logger.info(
        { from: this.projector.generation, to: generation },
        'switching read-model generation',
      );
      await this.projector.stop();
    }
    const projector = new Projector(this.deps, generation);
    this.projector = projector;
    this.deps.metrics.generation.set(generation);
    await projector.start();
  }
}
