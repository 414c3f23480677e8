import { isDefinitionEvent, validEventsOn, type EventStore, type LeanKv } from '@cb/nats';
import type { WorkflowResource } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/** Definition versions remembered at most (they never change once defined). */
const CACHE_LIMIT = 10_000;
const NONE: readonly string[] = [];

export interface AttributeLookup {
  /** The search attributes version `version` of the workflow declares. */
  of(tenant: string, workflowId: string, version: number): Promise<readonly string[]>;
}

/**
 * The search attributes each definition version declares: from the workflows read model, or,
 * while the definitions work item has not applied it yet, from the definition's event in the
 * stream (so token partitions never wait for it). A version never changes, so it is cached for
 * good. A version found nowhere (its event was dead-lettered) declares none.
 */
export class SearchAttributes implements AttributeLookup {
  private readonly cache = new Map<string, readonly string[]>();

  constructor(
    private readonly workflows: LeanKv,
    private readonly store: EventStore,
    private readonly naming: Naming,
  ) {}

  async of(tenant: string, workflowId: string, version: number): Promise<readonly string[]> {
    const key = this.naming.workflowVersionKey(tenant, workflowId, version);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const entry = await this.workflows.get(key);
    const resource = entry?.operation === 'PUT' ? entry.json<WorkflowResource>() : undefined;
    let declared = resource?.searchAttributes;
    if (!resource) {
      const subject = this.naming.workflowSubject(tenant, workflowId);
      for await (const { event } of validEventsOn(this.store, subject, isDefinitionEvent)) {
        if (event.definition.version === version) {
          declared = event.definition.searchAttributes;
          break;
        }
      }
    }
    const attributes = declared?.length ? [...declared] : NONE;
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, attributes);
    return attributes;
  }
}
