import { definitionKeysFor, isNewerDefinition } from '@cb/domain';
import type { LeanKv } from '@cb/nats';
import type { WorkflowResource } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { ApplyResult, BatchApplier, BatchContext, DecodedDefinitionEvent } from './batch';
import type { ReadModels } from './read-models';
import { isConflict } from './failures';

const CAS_ATTEMPTS = 5;

/** Definitions: one key per version (immutable) and the latest per workflow (only ever newer). */
export class DefinitionsApplier implements BatchApplier<DecodedDefinitionEvent> {
  private latest = new Map<string, { value: WorkflowResource | null; revision: number }>();

  constructor(
    private readonly models: ReadModels,
    private readonly naming: Naming,
  ) {}

  reset(): void {
    this.latest = new Map();
  }

  async apply(batch: DecodedDefinitionEvent[], _context: BatchContext): Promise<ApplyResult> {
    let applied = 0;
    let skipped = 0;
    for (const { seq, tenant, event } of batch) {
      const { version, latestCandidate } = definitionKeysFor(event, seq);
      await this.models.workflows.put(
        this.naming.workflowVersionKey(tenant, event.workflowId, version.version),
        version,
      );
      if (await this.putLatest(tenant, event.workflowId, latestCandidate)) applied++;
      else skipped++;
    }
    return { applied, skipped };
  }

  private async putLatest(
    tenant: string,
    workflowId: string,
    candidate: WorkflowResource,
  ): Promise<boolean> {
    const key = this.naming.workflowKey(tenant, workflowId);
    const kv: LeanKv = this.models.workflows;
    for (let attempt = 0; ; attempt++) {
      let current = this.latest.get(key);
      if (!current) {
        const entry = await kv.get(key);
        current = entry
          ? {
              value: entry.operation === 'PUT' ? (entry.json<WorkflowResource>() ?? null) : null,
              revision: entry.revision,
            }
          : { value: null, revision: 0 };
      }
      if (!isNewerDefinition(current.value, candidate)) {
        this.latest.set(key, current);
        return false;
      }
      try {
        const revision = await kv.put(key, candidate, current.revision);
        this.latest.set(key, { value: candidate, revision });
        return true;
      } catch (err) {
        this.latest.delete(key);
        if (!isConflict(err) || attempt >= CAS_ATTEMPTS) throw err;
      }
    }
  }
}
