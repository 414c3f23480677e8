import { Type, type Static } from '@sinclair/typebox';
import { Actor, Id, IdempotencyKey, JsonObject, PrincipalRef, Seq } from './common';
import { ApiKey, ApiKeyId, ApiKeyRecord } from './auth';
import { CreateWebhook, DeleteWebhook, WebhookCommandResult } from './webhooks';
import type { CommandKind } from '@cb/subjects';
import { Tenant } from './common';
import { WorkflowDefinitionInput, WorkflowResource } from './definition';
import { ErrorBody } from './errors';
import { Token } from './token';

export const DefineWorkflow = Type.Object(
  {
    type: Type.Literal('DefineWorkflow'),
    /** `create` fails with WORKFLOW_EXISTS if the id exists; `version` needs an existing id. */
    mode: Type.Union([Type.Literal('create'), Type.Literal('version')]),
    definition: WorkflowDefinitionInput,
  },
  { additionalProperties: false },
);
export type DefineWorkflow = Static<typeof DefineWorkflow>;

export const CreateToken = Type.Object(
  {
    type: Type.Literal('CreateToken'),
    workflowId: Id,
    tokenId: Type.Optional(Id),
    place: Type.Optional(Id),
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);
export type CreateToken = Static<typeof CreateToken>;

export const FireTransition = Type.Object(
  {
    type: Type.Literal('FireTransition'),
    workflowId: Id,
    tokenId: Id,
    transition: Id,
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);
export type FireTransition = Static<typeof FireTransition>;

export const UpdateToken = Type.Object(
  {
    type: Type.Literal('UpdateToken'),
    workflowId: Id,
    tokenId: Id,
    data: Type.Optional(JsonObject),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);
export type UpdateToken = Static<typeof UpdateToken>;

export const DeleteToken = Type.Object(
  {
    type: Type.Literal('DeleteToken'),
    workflowId: Id,
    tokenId: Id,
  },
  { additionalProperties: false },
);
export type DeleteToken = Static<typeof DeleteToken>;

/**
 * A new API key, minted by the gateway (which alone sees the secret): the command service adds
 * who created it and when.
 */
export const CreateApiKey = Type.Object(
  {
    type: Type.Literal('CreateApiKey'),
    key: Type.Omit(ApiKeyRecord, ['createdAt', 'createdBy', 'revokedAt']),
  },
  { additionalProperties: false },
);
export type CreateApiKey = Static<typeof CreateApiKey>;

export const RevokeApiKey = Type.Object(
  { type: Type.Literal('RevokeApiKey'), tenant: Tenant, keyId: ApiKeyId },
  { additionalProperties: false },
);
export type RevokeApiKey = Static<typeof RevokeApiKey>;

export const KeyCommand = Type.Union([CreateApiKey, RevokeApiKey]);
export type KeyCommand = Static<typeof KeyCommand>;

export const TokenCommand = Type.Union([CreateToken, FireTransition, UpdateToken, DeleteToken]);
export type TokenCommand = Static<typeof TokenCommand>;

export const Command = Type.Union([
  DefineWorkflow,
  CreateToken,
  FireTransition,
  UpdateToken,
  DeleteToken,
  CreateApiKey,
  RevokeApiKey,
  CreateWebhook,
  DeleteWebhook,
]);
export type Command = Static<typeof Command>;
export type CommandType = Command['type'];

/**
 * Where each command type goes: the kind is the last part of its command subject
 * (`<prefix>.cmd.<route>.<kind>`). The one table between the two; the gateway derives the subject
 * from the command, the command service checks a command against its subject with it.
 */
export const COMMAND_KIND_OF_TYPE = {
  DefineWorkflow: 'workflow.define',
  CreateApiKey: 'key.create',
  RevokeApiKey: 'key.revoke',
  CreateWebhook: 'webhook.create',
  DeleteWebhook: 'webhook.delete',
  CreateToken: 'token.create',
  FireTransition: 'token.fire',
  UpdateToken: 'token.update',
  DeleteToken: 'token.delete',
} as const satisfies Record<CommandType, CommandKind>;

/** The kind (last subject part) of a command type. */
export function commandKindOf<T extends CommandType>(type: T): (typeof COMMAND_KIND_OF_TYPE)[T] {
  return COMMAND_KIND_OF_TYPE[type];
}

/** The command type a kind of subject takes (the table read backwards). */
export function commandTypeOfKind(kind: CommandKind): CommandType {
  const entry = Object.entries(COMMAND_KIND_OF_TYPE).find(([, k]) => k === kind);
  return entry![0] as CommandType;
}

/** What the gateway (or any client) sends on `<prefix>.cmd.<kind>`. */
export const CommandRequest = Type.Object(
  {
    command: Command,
    /** Who it was authenticated as: the tenant it acts in, and the key (recorded in the event). */
    principal: PrincipalRef,
    triggeredBy: Type.Optional(Actor),
    /** `If-Match`: the exact version the write must apply to (0 = must not exist yet). */
    expectedVersion: Type.Optional(Seq),
    /** `Idempotency-Key`: a retry returns the original result instead of a second event. */
    idempotencyKey: Type.Optional(IdempotencyKey),
  },
  { additionalProperties: false },
);
export type CommandRequest = Static<typeof CommandRequest>;

export const TokenCommandResult = Type.Object({
  ok: Type.Literal(true),
  kind: Type.Literal('token'),
  token: Token,
  /** True when an idempotent retry returned the original result. */
  duplicate: Type.Boolean(),
  /** True when the command deleted the token (the token is its last state). */
  deleted: Type.Boolean(),
});
export type TokenCommandResult = Static<typeof TokenCommandResult>;

export const WorkflowCommandResult = Type.Object({
  ok: Type.Literal(true),
  kind: Type.Literal('workflow'),
  workflow: WorkflowResource,
  duplicate: Type.Boolean(),
});
export type WorkflowCommandResult = Static<typeof WorkflowCommandResult>;

export const ApiKeyCommandResult = Type.Object({
  ok: Type.Literal(true),
  kind: Type.Literal('apiKey'),
  /** The key after the command (without its hash). */
  key: ApiKey,
  /** The seq of the key's event. */
  version: Type.Integer({ minimum: 1 }),
  /** True when the key was revoked already (nothing was written). */
  duplicate: Type.Boolean(),
});
export type ApiKeyCommandResult = Static<typeof ApiKeyCommandResult>;

export const CommandFailure = Type.Object({
  ok: Type.Literal(false),
  error: ErrorBody,
});
export type CommandFailure = Static<typeof CommandFailure>;

export const CommandReply = Type.Union([
  TokenCommandResult,
  WorkflowCommandResult,
  ApiKeyCommandResult,
  WebhookCommandResult,
  CommandFailure,
]);
export type CommandReply = Static<typeof CommandReply>;
