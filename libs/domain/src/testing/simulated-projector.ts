// A projection runtime in memory (test-only): applies deliveries the way the projection service
// does, through planTokenWrites / applyStatsEvents / definitionKeysFor, with optional crashes.
import {
  type PartitionStats,
  type PlaceEntry,
  type TokenDoc,
  type TokenEvent,
  type WorkflowDefined,
  type WorkflowResource,
} from '@cb/schemas';
import {
  applyStatsEvents,
  definitionKeysFor,
  isNewerDefinition,
  planTokenWrites,
  type StoredTokenEvent,
} from '../projections';

/**
 * Where writing one token's plan stops: never; after the place index but before the doc (the
 * service's write order); or after the doc but before the place index.
 */
export type Crash = 'none' | 'before-doc' | 'before-places';

export interface Faults {
  /** Whether (and where) writing a token's plan crashes, given how many events it applies. */
  crash(applied: number): Crash;
  /** Write the stats before the tokens, so a crash leaves them already written. */
  statsFirst: boolean;
}

const NO_FAULTS: Faults = { crash: () => 'none', statsFirst: false };

export interface ProjectorCounters {
  applied: number;
  skipped: number;
  /** Plans that applied nothing but re-issued place operations. */
  reissued: number;
  crashes: number;
}

/** Keys like the read models': every key starts with the (one) tenant. */
export class SimulatedProjector {
  constructor(readonly tenant = 'default') {}

  readonly tokens = new Map<string, TokenDoc>();
  readonly places = new Map<string, PlaceEntry>();
  readonly stats = new Map<string, PartitionStats>();
  readonly workflows = new Map<string, WorkflowResource>();
  readonly counters: ProjectorCounters = { applied: 0, skipped: 0, reissued: 0, crashes: 0 };

  /**
   * One delivery of one partition's token events: per token the place index then the doc, and
   * per workflow the stats (before or after the tokens: the service writes them concurrently).
   * Returns false if the delivery crashed; it is then not acked and must be delivered again.
   */
  applyTokens(partition: number, batch: StoredTokenEvent[], faults: Faults = NO_FAULTS): boolean {
    if (faults.statsFirst) this.applyStats(partition, batch);
    for (const [tokenId, events] of groupBy(batch, (e) => e.event.tokenId)) {
      const docKey = `${this.tenant}.${tokenId}`;
      const plan = planTokenWrites(this.tokens.get(docKey) ?? null, events);
      this.counters.applied += plan.applied;
      this.counters.skipped += plan.skipped;
      if (plan.doc === null && (plan.placePut !== null || plan.placeDeletes.length > 0)) {
        this.counters.reissued++;
      }
      const crash = plan.applied > 0 ? faults.crash(plan.applied) : 'none';
      const workflowId = events[0]!.event.workflowId;
      if (crash !== 'before-places') {
        for (const place of plan.placeDeletes) {
          this.places.delete(`${this.tenant}.${workflowId}.${place}.${tokenId}`);
        }
        if (plan.placePut !== null) {
          this.places.set(
            `${this.tenant}.${workflowId}.${plan.placePut.place}.${tokenId}`,
            plan.placePut,
          );
        }
      }
      if (crash !== 'before-doc' && plan.doc !== null) this.tokens.set(docKey, plan.doc);
      if (crash !== 'none') {
        this.counters.crashes++;
        return false;
      }
    }
    if (!faults.statsFirst) this.applyStats(partition, batch);
    return true;
  }

  private applyStats(partition: number, batch: StoredTokenEvent[]): void {
    for (const [workflowId, events] of groupBy(batch, (e) => e.event.workflowId)) {
      const key = `${this.tenant}.${workflowId}.${partition}`;
      const result = applyStatsEvents(this.stats.get(key) ?? null, workflowId, partition, events);
      if (result.applied > 0) this.stats.set(key, result.stats);
    }
  }

  applyDefinitions(batch: Array<{ seq: number; event: WorkflowDefined }>): void {
    for (const { seq, event } of batch) {
      const { version, latestCandidate } = definitionKeysFor(event, seq);
      const key = `${this.tenant}.${event.workflowId}`;
      this.workflows.set(`${key}.v${version.version}`, version);
      if (isNewerDefinition(this.workflows.get(key) ?? null, latestCandidate)) {
        this.workflows.set(key, latestCandidate);
      }
    }
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export function isTokenEvent(event: TokenEvent | WorkflowDefined): event is TokenEvent {
  return event.type !== 'workflow.defined.v1';
}
