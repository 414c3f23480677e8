import { CompiledWorkflowCache, type CompiledWorkflow } from '@cb/domain';
import { isDefinitionEvent, lastValidEvent, validEventsOn, type EventStore } from '@cb/nats';
import type { Logger } from '@cb/logging';
import type { WorkflowDefinition } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { lastStoredEvent, type StoredEvent } from './stored-event';

export interface LoadedWorkflow {
  latest: WorkflowDefinition | null;
  /** Seq of the last message on the workflow subject (0 if none): the next write's expectation. */
  lastSubjectSeq: number;
  last: StoredEvent | null;
}

/**
 * Definitions live in the stream on `<prefix>.wf.<tenant>.<id>`, one event per version. They are
 * immutable, so compiled versions (guards compiled by Ajv) are cached; only "latest" is read
 * from the stream each time (one direct get).
 */
export class WorkflowRepository {
  private readonly compiled = new CompiledWorkflowCache();

  constructor(
    private readonly store: EventStore,
    private readonly naming: Naming,
    private readonly logger: Logger,
  ) {}

  async latest(tenant: string, workflowId: string): Promise<LoadedWorkflow> {
    const subject = this.naming.workflowSubject(tenant, workflowId);
    const found = await lastValidEvent(this.store, subject, isDefinitionEvent);
    if (found.last === null) return { latest: null, lastSubjectSeq: 0, last: null };
    const last = lastStoredEvent({ ...found, last: found.last });
    if (found.skipped !== undefined) {
      this.logger.warn(
        { subject, seq: last.seq, reason: found.skipped },
        'skipping invalid message on workflow subject',
      );
    }
    return { latest: found.event?.definition ?? null, lastSubjectSeq: last.seq, last };
  }

  /** The compiled latest definition (null if the workflow does not exist). */
  async latestCompiled(tenant: string, workflowId: string): Promise<CompiledWorkflow | null> {
    const { latest } = await this.latest(tenant, workflowId);
    return latest === null ? null : this.compile(tenant, latest);
  }

  /** A specific version, compiled (null if it does not exist). */
  async version(
    tenant: string,
    workflowId: string,
    version: number,
  ): Promise<CompiledWorkflow | null> {
    const hit = this.compiled.get(tenant, workflowId, version);
    if (hit) return hit;
    const subject = this.naming.workflowSubject(tenant, workflowId);
    for await (const { event } of validEventsOn(this.store, subject, isDefinitionEvent)) {
      if (event.definition.version === version) return this.compile(tenant, event.definition);
    }
    return null;
  }

  compile(tenant: string, definition: WorkflowDefinition): CompiledWorkflow {
    return this.compiled.compile(tenant, definition);
  }
}
