import { Type, type Static } from '@sinclair/typebox';
import { Id, Seq, Timestamp } from './common';
import { Token } from './token';

const Count = Type.Integer({ minimum: 0 });

/**
 * `tokens` bucket, key `<tokenId>`: the token with `version` = seq of the last applied event. A
 * deleted token keeps a tombstone (`deleted: true`), so a redelivered older event can never
 * bring it back.
 */
export const TokenDoc = Type.Object(
  {
    ...Token.properties,
    deleted: Type.Optional(Type.Literal(true)),
    deletedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type TokenDoc = Static<typeof TokenDoc>;

/**
 * The token as a place lists it (what the projection plans to index in that place). The `places`
 * bucket itself holds ordered indexes of token ids (see @cb/domain `ordered-index`), not copies.
 */
export const PlaceEntry = Type.Object(Token.properties, { additionalProperties: false });
export type PlaceEntry = Static<typeof PlaceEntry>;

/** An hour of `occurredAt` in UTC, `YYYY-MM-DDTHH`. */
export const HourKey = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}$' });
export type HourKey = Static<typeof HourKey>;

export const HourlyCounts = Type.Object({ created: Count, completed: Count });
export type HourlyCounts = Static<typeof HourlyCounts>;

/** Tokens created and completed per hour: at most the 168 hours ending with the newest. */
export const Hourly = Type.Record(HourKey, HourlyCounts, { additionalProperties: false });
export type Hourly = Static<typeof Hourly>;

/** Completed stays in a place (left by a transition or a deletion). */
export const TimeInPlace = Type.Object({ totalMs: Count, count: Count });
export type TimeInPlace = Static<typeof TimeInPlace>;

const countsByPlace = Type.Record(Type.String(), Type.Integer(), {
  description:
    'live tokens per place (in workflow stats every declared place is listed, 0 when empty)',
});
const countsByTransition = Type.Record(Type.String(), Count, {
  description: 'times each transition fired',
});

/**
 * `stats` bucket, key `<workflowId>.<partition>`: one workflow's counts over one partition's
 * events. `seq` is the last applied event's seq, so a redelivered event is never counted twice.
 */
export const PartitionStats = Type.Object(
  {
    workflowId: Id,
    partition: Type.Integer({ minimum: 0 }),
    seq: Seq,
    places: countsByPlace,
    transitionsFired: Count,
    transitions: countsByTransition,
    created: Count,
    deleted: Count,
    completed: Type.Integer({ minimum: 0, description: 'transitions into a final place' }),
    timeInPlace: Type.Record(Type.String(), TimeInPlace),
    hourly: Hourly,
  },
  { additionalProperties: false },
);
export type PartitionStats = Static<typeof PartitionStats>;

/** A workflow's stats as the API returns them: partition stats summed at read time. */
export const WorkflowStats = Type.Object(
  {
    workflowId: Id,
    totalTokens: Type.Integer({ minimum: 0, description: 'live tokens' }),
    places: countsByPlace,
    transitionsFired: Count,
    transitions: countsByTransition,
    created: Count,
    deleted: Count,
    completed: Type.Integer({ minimum: 0, description: 'transitions into a final place' }),
    averageTimeInPlaceMs: Type.Record(Type.String(), Type.Number({ minimum: 0 }), {
      description: 'mean completed stay per place, whole milliseconds; 0 when none completed',
    }),
    hourly: Hourly,
  },
  { additionalProperties: false },
);
export type WorkflowStats = Static<typeof WorkflowStats>;

/** Meta key: the read-model generation readers follow; a rebuild fills the next one, then switches. */
export const ReadModelPointer = Type.Object(
  { generation: Type.Integer({ minimum: 1 }), switchedAt: Timestamp },
  { additionalProperties: false },
);
export type ReadModelPointer = Static<typeof ReadModelPointer>;

/** Projector key: the last seq a consumer (a partition, or definitions) has applied. */
export const PartitionWatermark = Type.Object(
  { seq: Seq, at: Timestamp },
  { additionalProperties: false },
);
export type PartitionWatermark = Static<typeof PartitionWatermark>;

/** Projector key: which worker applies a partition, until when (ms since the epoch). */
export const Lease = Type.Object(
  {
    owner: Type.String({ minLength: 1 }),
    expiresAt: Type.Integer({ minimum: 0, description: 'ms since the epoch' }),
    generation: Type.Integer({ minimum: 1, description: 'the read-model generation it applies' }),
  },
  { additionalProperties: false },
);
export type Lease = Static<typeof Lease>;

/** Projector key: a live worker and the partitions it holds, so others can balance leases. */
export const WorkerHeartbeat = Type.Object(
  {
    id: Type.String({ minLength: 1 }),
    expiresAt: Type.Integer({ minimum: 0, description: 'ms since the epoch' }),
    partitions: Type.Array(Type.Integer({ minimum: 0 })),
    generation: Type.Integer({
      minimum: 1,
      description: 'the read-model generation the worker serves',
    }),
  },
  { additionalProperties: false },
);
export type WorkerHeartbeat = Static<typeof WorkerHeartbeat>;
