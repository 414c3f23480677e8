import {
  type CbEvent,
  type PartitionStats,
  type PlaceEntry,
  type TokenDoc,
  type WorkflowResource,
} from '@cb/schemas';
import { toToken } from '../decider';
import { FoldStats } from './fold-stats';

/** Keyed like the read models: every key starts with the tenant. */
export interface FoldedReadModels {
  /** By `<tenant>.<tokenId>`, tombstones included. */
  tokens: Map<string, TokenDoc>;
  /** By `<tenant>.<workflowId>.<place>.<tokenId>`. */
  places: Map<string, PlaceEntry>;
  /** By `<tenant>.<workflowId>.<partition>`. */
  stats: Map<string, PartitionStats>;
  /** By `<tenant>.<workflowId>` (the latest version) and `<tenant>.<workflowId>.v<version>`. */
  workflows: Map<string, WorkflowResource>;
}

/** One stored event and the tenant of its subject (`default` when not given). */
export interface FoldInput {
  seq: number;
  event: CbEvent;
  tenant?: string;
}

/**
 * The reference fold: every read model from the whole stream, one event at a time, on plain maps.
 * Independent of `planTokenWrites` and `applyStatsEvents` so tests can use it as their oracle; a
 * rebuild can use it to check a generation. Seqs must increase strictly.
 */
export function foldReadModels(
  events: readonly FoldInput[],
  partitionOf: (tokenId: string) => number,
): FoldedReadModels {
  const tokens = new Map<string, TokenDoc>();
  const places = new Map<string, PlaceEntry>();
  const stats = new Map<string, FoldStats>();
  const workflows = new Map<string, WorkflowResource>();
  let lastSeq = 0;

  for (const { seq, event, tenant = 'default' } of events) {
    if (seq <= lastSeq) throw new RangeError(`foldReadModels: seq ${seq} after ${lastSeq}`);
    lastSeq = seq;
    if (event.type === 'workflow.defined.v1') {
      const resource: WorkflowResource = { ...event.definition, analysis: event.analysis, seq };
      const key = `${tenant}.${event.workflowId}`;
      workflows.set(`${key}.v${resource.version}`, resource);
      const latest = workflows.get(key);
      if (latest === undefined || latest.version < resource.version) {
        workflows.set(key, resource);
      }
      continue;
    }

    const { workflowId, tokenId } = event;
    const placeKey = (place: string) => `${tenant}.${workflowId}.${place}.${tokenId}`;
    const token = toToken(event.state, seq);
    if (event.type === 'token.deleted.v1') {
      tokens.set(`${tenant}.${tokenId}`, { ...token, deleted: true, deletedAt: event.occurredAt });
      places.delete(placeKey(event.place));
    } else {
      tokens.set(`${tenant}.${tokenId}`, token);
      if (event.type === 'token.transitioned.v1') places.delete(placeKey(event.from));
      places.set(placeKey(token.place), token);
    }

    const partition = partitionOf(tokenId);
    const statsKey = `${tenant}.${workflowId}.${partition}`;
    let counts = stats.get(statsKey);
    if (counts === undefined) {
      counts = new FoldStats(workflowId, partition);
      stats.set(statsKey, counts);
    }
    counts.apply(seq, event);
  }

  return {
    tokens,
    places,
    stats: new Map([...stats].map(([key, counts]) => [key, counts.toStats()])),
    workflows,
  };
}
