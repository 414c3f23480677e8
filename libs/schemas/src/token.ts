import { Type, type Static } from '@sinclair/typebox';
import { Actor, Id, JsonObject, Seq, Timestamp } from './common';
import { TokenTimerView } from './timers';

export const LastTransition = Type.Object({
  id: Id,
  from: Id,
  to: Id,
  at: Timestamp,
  triggeredBy: Type.Optional(Actor),
});
export type LastTransition = Static<typeof LastTransition>;

const tokenFields = {
  id: Id,
  workflowId: Id,
  definitionVersion: Type.Integer({ minimum: 1, description: 'pinned at creation' }),
  place: Id,
  data: JsonObject,
  metadata: JsonObject,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  placeEnteredAt: Timestamp,
  lastTransition: Type.Optional(LastTransition),
};

/**
 * A token's state after an event, as carried inside the event. It has no `version`: the version
 * is the stream sequence of the event that carries it, known only once published.
 */
export const TokenState = Type.Object(tokenFields, { additionalProperties: false });
export type TokenState = Static<typeof TokenState>;

/** A token as read models and the API expose it: the state plus `version` = last event's seq. */
export const Token = Type.Object(
  {
    ...tokenFields,
    version: Seq,
    /** Pending timers of timed transitions (present on a token read when it has any). */
    timers: Type.Optional(Type.Array(TokenTimerView)),
  },
  { additionalProperties: false },
);
export type Token = Static<typeof Token>;
