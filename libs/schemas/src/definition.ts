import { Type, type Static } from '@sinclair/typebox';
import { Id, Seq, Timestamp } from './common';

/** A guard is a JSON Schema evaluated against `{ data, metadata }` of the token. */
export const GuardSchema = Type.Union(
  [Type.Boolean(), Type.Record(Type.String(), Type.Unknown())],
  {
    description: 'JSON Schema (draft 2020-12 subset supported by Ajv) over `{ data, metadata }`',
  },
);
export type GuardSchema = Static<typeof GuardSchema>;

/**
 * How long a token stays in a `from` place before a timed transition fires. The exact grammar and
 * bounds are checked at definition time (libs/domain `parseDuration`), with messages that say
 * what is wrong; the schema only bounds the size.
 */
export const TimerDuration = Type.String({
  maxLength: 64,
  description:
    'ISO 8601 duration `PnYnMnDTnHnMnS` or `PnW` (integers; seconds may have up to 3 decimals), from 1 second to 10 years, e.g. `PT48H`, `P1M`; years and months are calendar years and months in UTC (31 Jan + P1M = 28/29 Feb), days are 24 h',
});

/** Where a token names the time a timed transition fires at; checked at definition time. */
export const TimerPointer = Type.String({
  maxLength: 512,
  description:
    'JSON Pointer (RFC 6901) into `{ data, metadata }` starting with `/data/` or `/metadata/`, naming an RFC 3339 time, e.g. `/data/publishAt`; a missing or invalid value arms no timer; a past time is due at once; re-armed when the value changes',
});

export const TransitionDefinition = Type.Object(
  {
    id: Id,
    from: Type.Array(Id, {
      minItems: 1,
      maxItems: 256,
      description: 'source places (any of them)',
    }),
    to: Id,
    guard: Type.Optional(GuardSchema),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    after: Type.Optional(TimerDuration),
    at: Type.Optional(TimerPointer),
  },
  {
    additionalProperties: false,
    description:
      'A transition with `after` or `at` (not both) is timed: it fires by itself once due, guards still applying',
  },
);
export type TransitionDefinition = Static<typeof TransitionDefinition>;

/** Search attributes: one top-level key of the token's metadata or data. */
export const SEARCH_ATTRIBUTE_PATTERN = '^(metadata|data)\\.[A-Za-z0-9_-]{1,64}$';
export const MAX_SEARCH_ATTRIBUTES = 16;

export const SearchAttribute = Type.String({
  pattern: SEARCH_ATTRIBUTE_PATTERN,
  description:
    '`metadata.<key>` or `data.<key>`: tokens are indexed by that value when it is a string, number or boolean (compared as text)',
});

const definitionFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  places: Type.Array(Id, { minItems: 1, maxItems: 1000 }),
  initialPlace: Id,
  finalPlaces: Type.Optional(Type.Array(Id, { maxItems: 1000 })),
  transitions: Type.Array(TransitionDefinition, { maxItems: 2000 }),
  searchAttributes: Type.Optional(
    Type.Array(SearchAttribute, {
      maxItems: MAX_SEARCH_ATTRIBUTES,
      description:
        'fields the projection indexes, so `GET /v1/tokens?<field>=<value>` on them costs a page instead of a scan',
    }),
  ),
};

/** What a client sends to define a workflow (`POST /v1/workflows`). */
export const WorkflowDefinitionInput = Type.Object(
  { id: Id, ...definitionFields },
  { additionalProperties: false },
);
export type WorkflowDefinitionInput = Static<typeof WorkflowDefinitionInput>;

/** A new version (`PUT /v1/workflows/:workflowId`): the id comes from the path. */
export const WorkflowVersionInput = Type.Object(
  { id: Type.Optional(Id), ...definitionFields },
  { additionalProperties: false },
);
export type WorkflowVersionInput = Static<typeof WorkflowVersionInput>;

/** An immutable, versioned definition as stored in the stream. */
export const WorkflowDefinition = Type.Object(
  {
    id: Id,
    version: Type.Integer({ minimum: 1 }),
    ...definitionFields,
    createdAt: Timestamp,
  },
  { additionalProperties: false },
);
export type WorkflowDefinition = Static<typeof WorkflowDefinition>;

/** Structural findings returned with every definition; they are warnings, not errors. */
export const DefinitionAnalysis = Type.Object({
  unreachablePlaces: Type.Array(Id, {
    description: 'places no transition path from the initial place reaches',
  }),
  deadEndPlaces: Type.Array(Id, { description: 'places with no way out that are not final' }),
});
export type DefinitionAnalysis = Static<typeof DefinitionAnalysis>;

/** A definition as the API returns it. */
export const WorkflowResource = Type.Object({
  ...WorkflowDefinition.properties,
  analysis: DefinitionAnalysis,
  seq: Type.Optional(Seq),
});
export type WorkflowResource = Static<typeof WorkflowResource>;
