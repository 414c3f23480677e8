import { Type, type Static } from '@sinclair/typebox';
import { Actor, Id, IdempotencyKey } from './common';
import { ErrorCodeSchema } from './errors';

/** Most tokens one bulk-fire request fires (and the largest `limit`); more → `truncated`. */
export const BULK_FIRE_MAX_TOKENS = 10_000;

/** Most keys in `filter.metadata` and in `filter.data` (each). */
export const BULK_FIRE_MAX_FILTER_KEYS = 16;

const Scalar = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()], {
  description: 'a string, number or boolean; compared with its type (`1` does not match `"1"`)',
});

const ScalarMap = (what: string) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Scalar, {
    maxProperties: BULK_FIRE_MAX_FILTER_KEYS,
    propertyNames: { minLength: 1, maxLength: 128 },
    description: `top-level keys of the token ${what} and the value each must equal (at most ${BULK_FIRE_MAX_FILTER_KEYS} keys)`,
  });

/** Equality on top-level keys of `metadata` and `data`: every listed key must be present and equal. */
export const BulkFireFilter = Type.Object(
  {
    metadata: Type.Optional(ScalarMap('metadata')),
    data: Type.Optional(ScalarMap('data')),
  },
  { additionalProperties: false },
);
export type BulkFireFilter = Static<typeof BulkFireFilter>;

/** `POST /v1/workflows/:workflowId/bulk-fire` */
export const BulkFireBody = Type.Object(
  {
    transition: Id,
    place: Type.Optional(
      Type.String({
        pattern: Id.pattern,
        minLength: Id.minLength,
        maxLength: Id.maxLength,
        description:
          'fire only tokens in this place (a declared place the transition fires from); default: every `from` place of the transition',
      }),
    ),
    filter: Type.Optional(BulkFireFilter),
    triggeredBy: Type.Optional(Actor),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: BULK_FIRE_MAX_TOKENS,
        default: BULK_FIRE_MAX_TOKENS,
        description: `most tokens to fire in this request (1 to ${BULK_FIRE_MAX_TOKENS}, default ${BULK_FIRE_MAX_TOKENS}); the rest is reported with \`truncated\` and \`nextCursor\``,
      }),
    ),
    cursor: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'the `nextCursor` of a truncated answer: continue after the tokens it covered',
      }),
    ),
  },
  { additionalProperties: false },
);
export type BulkFireBody = Static<typeof BulkFireBody>;

/** Headers of a bulk fire: `If-Match` has no meaning for many tokens and is refused. */
export const BulkFireHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: IdempotencyKey.pattern,
      minLength: IdempotencyKey.minLength,
      maxLength: IdempotencyKey.maxLength,
      description:
        'makes the request safe to repeat: each token is fired with a key derived from this one and its id',
    }),
  ),
});
export type BulkFireHeaders = Static<typeof BulkFireHeaders>;

/** One token that did not fire, with the code and message the single-token fire would give. */
export const BulkFireError = Type.Object({
  tokenId: Id,
  code: ErrorCodeSchema,
  message: Type.String(),
});
export type BulkFireError = Static<typeof BulkFireError>;

export const BulkFireResult = Type.Object({
  matched: Type.Integer({
    minimum: 0,
    description: 'tokens this request tried to fire (= succeeded + failed)',
  }),
  succeeded: Type.Integer({ minimum: 0 }),
  failed: Type.Integer({ minimum: 0 }),
  replayed: Type.Integer({
    minimum: 0,
    description:
      'of `succeeded`, tokens an earlier request with the same Idempotency-Key already fired (no new event)',
  }),
  succeededIds: Type.Array(Id, { description: 'the tokens that fired, ordered by id' }),
  errors: Type.Array(BulkFireError, { description: 'one per failed token, ordered by token id' }),
  version: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'highest event version among the fired tokens: pass it as `minSeq` to read them back',
    }),
  ),
  truncated: Type.Boolean({
    description: 'true when matching tokens may remain beyond this request: repeat with `cursor`',
  }),
  nextCursor: Type.Optional(
    Type.String({ description: 'pass as `cursor` to continue; present when `truncated`' }),
  ),
});
export type BulkFireResult = Static<typeof BulkFireResult>;

/** `POST /v1/workflows/:workflowId/bulk-fire/preview`: which tokens a bulk fire would try. */
export const BulkFirePreviewBody = Type.Object(
  {
    transition: BulkFireBody.properties.transition,
    place: BulkFireBody.properties.place,
    filter: BulkFireBody.properties.filter,
  },
  { additionalProperties: false },
);
export type BulkFirePreviewBody = Static<typeof BulkFirePreviewBody>;

export const BulkFirePreview = Type.Object({
  matched: Type.Integer({
    minimum: 0,
    maximum: BULK_FIRE_MAX_TOKENS,
    description: `tokens a bulk fire with this body would try to fire now (counted up to ${BULK_FIRE_MAX_TOKENS})`,
  }),
  capped: Type.Boolean({
    description:
      'true when more tokens may match than `matched` (the count stopped at its bound): a bulk fire would be `truncated`',
  }),
});
export type BulkFirePreview = Static<typeof BulkFirePreview>;
