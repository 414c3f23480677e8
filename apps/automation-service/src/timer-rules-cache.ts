import { timerRules, type TimerRules } from '@cb/domain';
import { isDefinitionEvent, validEventsOn, type EventStore } from '@cb/nats';
import type { Naming } from '@cb/subjects';

/** Parsed definitions kept at most (the least recently used are forgotten first). */
const LIMIT = 10_000;

/**
 * The timer rules of one definition version, read from the workflow's subject once: versions
 * are immutable, so a cached version never goes stale. A version not stored (yet) is not cached.
 */
export class TimerRulesCache {
  private readonly cache = new Map<string, TimerRules>();

  constructor(
    private readonly store: EventStore,
    private readonly naming: Naming,
  ) {}

  async get(tenant: string, workflowId: string, version: number): Promise<TimerRules | null> {
    const key = `${tenant}=${workflowId}=${version}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const subject = this.naming.workflowSubject(tenant, workflowId);
    for await (const { event } of validEventsOn(this.store, subject, isDefinitionEvent)) {
      if (event.definition.version !== version) continue;
      const rules = timerRules(event.definition);
      this.cache.set(key, rules);
      if (this.cache.size > LIMIT) this.cache.delete(this.cache.keys().next().value!);
      return rules;
    }
    return null;
  }
}
