import { LRUCache } from 'lru-cache';
import type { WorkflowDefinition } from '@cb/schemas';
import { compileWorkflow, type CompiledWorkflow } from './compiled-workflow';

/** How many compiled definition versions a cache keeps by default. */
export const COMPILED_WORKFLOW_CACHE_SIZE = 1000;

/** The one key of a definition version: the tenant, the workflow id and the version. */
export function compiledWorkflowKey(tenant: string, workflowId: string, version: number): string {
  return `${tenant}/${workflowId}@${version}`;
}

/**
 * Compiled definition versions (guards compiled by Ajv), of the command service and of the
 * gateway alike. A version never changes once defined, so an entry is never stale; the least
 * recently used one goes when the cache is full, which bounds the memory.
 */
export class CompiledWorkflowCache {
  private readonly entries: LRUCache<string, CompiledWorkflow>;

  constructor(capacity = COMPILED_WORKFLOW_CACHE_SIZE) {
    this.entries = new LRUCache({ max: capacity });
  }

  /** The compiled version, if this cache holds it. */
  get(tenant: string, workflowId: string, version: number): CompiledWorkflow | undefined {
    return this.entries.get(compiledWorkflowKey(tenant, workflowId, version));
  }

  /** The tenant's definition compiled: from the cache, or compiled now and kept. */
  compile(tenant: string, definition: WorkflowDefinition): CompiledWorkflow {
    const key = compiledWorkflowKey(tenant, definition.id, definition.version);
    let compiled = this.entries.get(key);
    if (!compiled) {
      compiled = compileWorkflow(definition);
      this.entries.set(key, compiled);
    }
    return compiled;
  }

  get size(): number {
    return this.entries.size;
  }
}
