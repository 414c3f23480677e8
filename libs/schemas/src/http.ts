import { Type, type Static } from '@sinclair/typebox';
import { Actor, Id, JsonObject } from './common';

/** `POST /v1/workflows/:workflowId/tokens` */
export const CreateTokenBody = Type.Object(
  {
    id: Type.Optional(Id),
    place: Type.Optional(Id),
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
    triggeredBy: Type.Optional(Actor),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

/** `POST /v1/workflows/:workflowId/tokens/:tokenId/fire` */
export const FireBody = Type.Object(
  {
    transition: Id,
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
    triggeredBy: Type.Optional(Actor),
  },
  { additionalProperties: false },
);
export type FireBody = Static<typeof FireBody>;

/** `PATCH /v1/workflows/:workflowId/tokens/:tokenId` — JSON Merge Patch of data/metadata. */
export const PatchTokenBody = Type.Object(
  {
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
    triggeredBy: Type.Optional(Actor),
  },
  { additionalProperties: false },
);
export type PatchTokenBody = Static<typeof PatchTokenBody>;

export const WorkflowParams = Type.Object({ workflowId: Id });
export type WorkflowParams = Static<typeof WorkflowParams>;

export const TokenParams = Type.Object({ workflowId: Id, tokenId: Id });
export type TokenParams = Static<typeof TokenParams>;

export const StrongReadQuery = Type.Object(
  {
    consistency: Type.Optional(Type.Union([Type.Literal('eventual'), Type.Literal('strong')])),
  },
  { additionalProperties: false },
);
export type StrongReadQuery = Static<typeof StrongReadQuery>;

/** Optional write headers. */
export const WriteHeaders = Type.Object({
  'if-match': Type.Optional(
    Type.String({
      pattern: '^(\\*|(W/)?"?[0-9]{1,15}"?)$',
      description: 'the version the write expects, e.g. "42" (the ETag of the resource)',
    }),
  ),
  'idempotency-key': Type.Optional(
    Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' }),
  ),
});
export type WriteHeaders = Static<typeof WriteHeaders>;
