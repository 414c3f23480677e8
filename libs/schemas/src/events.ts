import { Type, type Static } from '@sinclair/typebox';
import { Actor, Id, JsonObject, PrincipalRef, Tenant, Timestamp } from './common';
import { ApiKeyId, ApiKeyRecord } from './auth';
import { DefinitionAnalysis, WorkflowDefinition } from './definition';
import { TokenState } from './token';

const eventBase = {
  eventId: Type.String({ minLength: 1, maxLength: 64, description: 'unique id of this event' }),
  occurredAt: Timestamp,
  /** Who the command was authenticated as (apart from the free-form `triggeredBy`). */
  principal: Type.Optional(PrincipalRef),
  triggeredBy: Type.Optional(Actor),
  requestId: Type.Optional(
    Type.String({ maxLength: 128, description: 'correlation id of the request' }),
  ),
};

export const WorkflowDefined = Type.Object({
  type: Type.Literal('workflow.defined.v1'),
  ...eventBase,
  workflowId: Id,
  definition: WorkflowDefinition,
  analysis: DefinitionAnalysis,
});
export type WorkflowDefined = Static<typeof WorkflowDefined>;

const tokenEventBase = { ...eventBase, workflowId: Id, tokenId: Id };

export const TokenCreated = Type.Object({
  type: Type.Literal('token.created.v1'),
  ...tokenEventBase,
  place: Id,
  state: TokenState,
});
export type TokenCreated = Static<typeof TokenCreated>;

export const TokenTransitioned = Type.Object({
  type: Type.Literal('token.transitioned.v1'),
  ...tokenEventBase,
  transition: Id,
  from: Id,
  to: Id,
  dataPatch: Type.Optional(JsonObject),
  metadataPatch: Type.Optional(JsonObject),
  timeInPlaceMs: Type.Integer({ minimum: 0, description: 'time the token spent in `from`' }),
  toFinal: Type.Boolean({ description: 'whether `to` is a final place of the definition' }),
  state: TokenState,
});
export type TokenTransitioned = Static<typeof TokenTransitioned>;

export const TokenUpdated = Type.Object({
  type: Type.Literal('token.updated.v1'),
  ...tokenEventBase,
  dataPatch: Type.Optional(JsonObject),
  metadataPatch: Type.Optional(JsonObject),
  state: TokenState,
});
export type TokenUpdated = Static<typeof TokenUpdated>;

export const TokenDeleted = Type.Object({
  type: Type.Literal('token.deleted.v1'),
  ...tokenEventBase,
  place: Id,
  timeInPlaceMs: Type.Integer({
    minimum: 0,
    description: 'time the token spent in its last place',
  }),
  state: TokenState,
});
export type TokenDeleted = Static<typeof TokenDeleted>;

export const TokenEvent = Type.Union([TokenCreated, TokenTransitioned, TokenUpdated, TokenDeleted]);
export type TokenEvent = Static<typeof TokenEvent>;

export const CbEvent = Type.Union([
  WorkflowDefined,
  TokenCreated,
  TokenTransitioned,
  TokenUpdated,
  TokenDeleted,
]);
export type CbEvent = Static<typeof CbEvent>;
export type CbEventType = CbEvent['type'];

const keyEventBase = {
  ...eventBase,
  /** Required here: who granted or revoked the key is the point of the record. */
  principal: PrincipalRef,
  tenant: Tenant,
  keyId: ApiKeyId,
  /** The key's whole record after the event (its secret's hash, never the secret). */
  key: ApiKeyRecord,
};

/** An API key was created (`<prefix>.key.<tenant>.<keyId>`). */
export const ApiKeyCreated = Type.Object(
  { type: Type.Literal('apikey.created.v1'), ...keyEventBase },
  { additionalProperties: false },
);
export type ApiKeyCreated = Static<typeof ApiKeyCreated>;

/** An API key was revoked: it authenticates nothing from now on (`key.revokedAt` is set). */
export const ApiKeyRevoked = Type.Object(
  { type: Type.Literal('apikey.revoked.v1'), ...keyEventBase },
  { additionalProperties: false },
);
export type ApiKeyRevoked = Static<typeof ApiKeyRevoked>;

/** Events on the key subjects, apart from the workflow and token events (`CbEvent`). */
export const KeyEvent = Type.Union([ApiKeyCreated, ApiKeyRevoked]);
export type KeyEvent = Static<typeof KeyEvent>;
