// Property: however a stream is cut into deliveries, redelivered or crashed part-way, applying it
// through planTokenWrites / applyStatsEvents / definitionKeysFor gives the reference fold.
import {
  compileValidator,
  PartitionStats,
  PlaceEntry,
  TokenDoc,
  type WorkflowDefined,
  WorkflowResource,
  WorkflowStats,
} from '@cb/schemas';
import { partitionOf } from '@cb/subjects';
import {
  randomStream,
  type Random,
  seededRandom,
  type StoredEvent,
} from '../testing/random-stream';
import { type Crash, isTokenEvent, SimulatedProjector } from '../testing/simulated-projector';
import { foldReadModels } from './fold-read-models';
import { hourKey } from './hourly';
import { type StoredTokenEvent } from './stored-event';
import { sumStats } from './sum-stats';

const PARTITIONS = 4;
const partition = (tokenId: string) => partitionOf(tokenId, PARTITIONS);

type Delivery =
  | { kind: 'definitions'; events: Array<{ seq: number; event: WorkflowDefined }> }
  | { kind: 'tokens'; partition: number; events: StoredTokenEvent[] };

interface Consumer {
  pending: Delivery[];
  delivered: Delivery[];
}

/** One consumer per partition plus one for definitions, each cut into batches of 1-30. */
function consumers(stream: StoredEvent[], random: Random): Consumer[] {
  const definitions: Array<{ seq: number; event: WorkflowDefined }> = [];
  const partitions: StoredTokenEvent[][] = Array.from({ length: PARTITIONS }, () => []);
  for (const { seq, event } of stream) {
    if (isTokenEvent(event)) partitions[partition(event.tokenId)]!.push({ seq, event });
    else definitions.push({ seq, event });
  }
  const cut = <E>(events: E[]): E[][] => {
    const batches: E[][] = [];
    for (let i = 0; i < events.length;) {
      const size = 1 + random.int(30);
      batches.push(events.slice(i, i + size));
      i += size;
    }
    return batches;
  };
  return [
    { pending: cut(definitions).map((events) => ({ kind: 'definitions', events })), delivered: [] },
    ...partitions.map((events, p) => ({
      pending: cut(events).map((batch): Delivery => ({
        kind: 'tokens',
        partition: p,
        events: batch,
      })),
      delivered: [],
    })),
  ];
}

/** Deliver until acked: a crashed delivery is delivered again before anything after it. */
function deliver(projector: SimulatedProjector, delivery: Delivery, random: Random): void {
  if (delivery.kind === 'definitions') {
    projector.applyDefinitions(delivery.events);
    return;
  }
  const crash = (applied: number): Crash => {
    if (!random.chance(0.05)) return 'none';
    // A doc written without its place index is only recoverable from the redelivered last
    // event when that event was the only new one: the service writes places first for this.
    return applied === 1 && random.chance(0.5) ? 'before-places' : 'before-doc';
  };
  while (
    !projector.applyTokens(delivery.partition, delivery.events, {
      crash,
      statsFirst: random.chance(0.5),
    })
  );
}

/** Run every consumer's deliveries interleaved, with random redeliveries of earlier batches. */
function project(stream: StoredEvent[], random: Random): SimulatedProjector {
  const projector = new SimulatedProjector();
  const all = consumers(stream, random);
  for (let active = all; active.length > 0; active = active.filter((c) => c.pending.length > 0)) {
    const consumer = random.pick(active);
    let delivery = consumer.pending.shift()!;
    if (consumer.delivered.length > 0 && random.chance(0.25)) {
      const old = random.pick(consumer.delivered);
      if (random.chance(0.5)) deliver(projector, old, random);
      else delivery = merge(old, delivery, random);
    }
    deliver(projector, delivery, random);
    consumer.delivered.push(delivery);
  }
  return projector;
}

/** A redelivered batch arriving in the same pull as new messages, in either order. */
function merge(old: Delivery, next: Delivery, random: Random): Delivery {
  const [a, b] = random.chance(0.5) ? [old, next] : [next, old];
  if (a.kind === 'tokens' && b.kind === 'tokens') {
    return { ...a, events: [...a.events, ...b.events] };
  }
  if (a.kind === 'definitions' && b.kind === 'definitions') {
    return { ...a, events: [...a.events, ...b.events] };
  }
  throw new Error('a consumer mixes kinds');
}

const schemas = {
  tokens: compileValidator(TokenDoc),
  places: compileValidator(PlaceEntry),
  stats: compileValidator(PartitionStats),
  workflows: compileValidator(WorkflowResource),
  workflowStats: compileValidator(WorkflowStats),
};

/** Every value satisfies its schema, and summed stats agree with the place index. */
function checkShapes(projector: SimulatedProjector): void {
  for (const kind of ['tokens', 'places', 'stats', 'workflows'] as const) {
    for (const value of projector[kind].values()) expect(schemas[kind].errors(value)).toEqual([]);
  }
  const workflowIds = new Set([...projector.stats.values()].map((s) => s.workflowId));
  for (const workflowId of workflowIds) {
    const parts = [...projector.stats.values()].filter((s) => s.workflowId === workflowId);
    const definition = projector.workflows.get(`${projector.tenant}.${workflowId}`)!;
    const summed = sumStats(workflowId, parts, definition.places);
    expect(schemas.workflowStats.errors(summed)).toEqual([]);
    const indexed = new Map<string, number>(definition.places.map((p) => [p, 0]));
    for (const entry of projector.places.values()) {
      if (entry.workflowId !== workflowId) continue;
      indexed.set(entry.place, (indexed.get(entry.place) ?? 0) + 1);
    }
    expect(summed.places).toEqual(Object.fromEntries(indexed));
    expect(summed.totalTokens).toBe(summed.created - summed.deleted);
  }
}

describe('read-model projections (property)', () => {
  it.each([1, 7, 42, 1234, 20240501])(
    'given 2,000 random commands over 50 tokens (seed %i), when projected in random batches with redeliveries and crashes, then the read models equal the reference fold',
    (seed) => {
      const stream = randomStream(seed, { commands: 2000, tokens: 50 });
      const expected = foldReadModels(stream, partition);

      const projector = project(stream, seededRandom(seed ^ 0x9e3779b9));

      expect(Object.fromEntries(projector.tokens)).toEqual(Object.fromEntries(expected.tokens));
      expect(Object.fromEntries(projector.places)).toEqual(Object.fromEntries(expected.places));
      expect(Object.fromEntries(projector.stats)).toEqual(Object.fromEntries(expected.stats));
      expect(Object.fromEntries(projector.workflows)).toEqual(
        Object.fromEntries(expected.workflows),
      );

      checkShapes(projector);

      // The stream and the deliveries exercised what they are meant to.
      const types = stream.map((e) => e.event.type);
      const docs = [...expected.tokens.values()];
      expect(types.filter((t) => t === 'workflow.defined.v1').length).toBeGreaterThan(4);
      expect(types.filter((t) => t === 'token.transitioned.v1').length).toBeGreaterThan(300);
      expect(types).toContain('token.updated.v1');
      expect(docs.filter((d) => d.deleted).length).toBeGreaterThan(0);
      expect(docs.filter((d) => !d.deleted).length).toBeGreaterThan(0);
      expect(stream.some((e) => e.event.type === 'token.transitioned.v1' && e.event.toFinal)).toBe(
        true,
      );
      expect(projector.counters.skipped).toBeGreaterThan(0);
      expect(projector.counters.reissued).toBeGreaterThan(0);
      expect(projector.counters.crashes).toBeGreaterThan(0);
      const kept = new Set([...expected.stats.values()].flatMap((s) => Object.keys(s.hourly)));
      const createdHours = stream.flatMap((e) =>
        e.event.type === 'token.created.v1' ? [hourKey(e.event.occurredAt)] : [],
      );
      expect(createdHours.some((h) => !kept.has(h))).toBe(true);
    },
  );
});
