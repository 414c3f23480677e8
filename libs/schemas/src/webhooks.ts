import { Type, type Static } from '@sinclair/typebox';
import { SUBJECT_SAFE_ID_PATTERN, WEBHOOK_ID_PATTERN } from '@cb/subjects';
import { Actor, PrincipalRef, SafeInteger, Seq, Tenant, Timestamp } from './common';

/**
 * Webhooks (issue 15): registrations are events on `<prefix>.hook.<tenant>.<hookId>`, projected
 * into the webhooks bucket; the automation delivers the tenant's token events to each, records
 * every attempt on the deliveries stream and each webhook's health in the status bucket.
 */

/** A webhook's id: `wh_` and 16 base62 characters (a subject token and KV key part). */
export const WebhookId = Type.String({
  pattern: WEBHOOK_ID_PATTERN,
  description: '`wh_` and 16 base62 characters',
});
export type WebhookId = Static<typeof WebhookId>;

/** The events a webhook carries: token events only (workflow definitions are not delivered). */
export const WEBHOOK_EVENT_TYPES = [
  'token.created.v1',
  'token.transitioned.v1',
  'token.updated.v1',
  'token.deleted.v1',
] as const;
export const WebhookEventType = Type.Union(
  WEBHOOK_EVENT_TYPES.map((t) => Type.Literal(t)),
  { description: 'a token event type' },
);
export type WebhookEventType = Static<typeof WebhookEventType>;

/** The longest target URL accepted (longer: 400 VALIDATION_ERROR). */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: MAX_WEBHOOK_URL_LENGTH,
  description:
    'an absolute http or https URL without credentials, at most 2048 characters; its host must not resolve to a loopback, private, link-local or metadata address (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)',
});
const WebhookEvents = Type.Array(WebhookEventType, {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  uniqueItems: true,
  description: 'the event types delivered; absent: every token event',
});
const WebhookWorkflow = Type.String({
  pattern: SUBJECT_SAFE_ID_PATTERN,
  minLength: 1,
  maxLength: 64,
  description: "only this workflow's token events (it need not exist yet); absent: every workflow",
});
const WebhookDescription = Type.String({ maxLength: 500 });

/** The signing secret: `whsec_` and the base64 of 24 random bytes (Standard Webhooks). */
export const WebhookSecret = Type.String({
  pattern: '^whsec_[A-Za-z0-9+/]{32}$',
  description: 'the signing secret (Standard Webhooks `whsec_` form); shown once, at creation',
});

/** `POST /v1/webhooks`. */
export const CreateWebhookBody = Type.Object(
  {
    url: WebhookUrl,
    events: Type.Optional(WebhookEvents),
    workflowId: Type.Optional(WebhookWorkflow),
    description: Type.Optional(WebhookDescription),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

/**
 * A webhook's registration: the payload of its events and (with `seq`) its value in the webhooks
 * bucket. Deleted webhooks keep their record with `deletedAt` (a tombstone: a redelivered
 * creation can never revive one).
 */
export const WebhookRecord = Type.Object(
  {
    id: WebhookId,
    tenant: Tenant,
    url: WebhookUrl,
    events: Type.Optional(WebhookEvents),
    workflowId: Type.Optional(WebhookWorkflow),
    description: Type.Optional(WebhookDescription),
    secret: WebhookSecret,
    createdAt: Timestamp,
    createdBy: PrincipalRef,
    deletedAt: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type WebhookRecord = Static<typeof WebhookRecord>;

/**
 * Webhooks bucket, key `<tenant>.<hookId>`: the record and the stream seq of its
 * `webhook.created.v1` event (its delivery consumer starts at `seq + 1`: a new webhook receives
 * the events after its registration).
 */
export const WebhookEntry = Type.Object(
  { ...WebhookRecord.properties, seq: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);
export type WebhookEntry = Static<typeof WebhookEntry>;

const webhookEventBase = {
  eventId: Type.String({ minLength: 1, maxLength: 64, description: 'unique id of this event' }),
  occurredAt: Timestamp,
  /** Required here: who registered or deleted the webhook is the point of the record. */
  principal: PrincipalRef,
  triggeredBy: Type.Optional(Actor),
  requestId: Type.Optional(Type.String({ maxLength: 128 })),
  tenant: Tenant,
  webhookId: WebhookId,
  /** The webhook's whole record after the event. */
  webhook: WebhookRecord,
};

/** A webhook was registered (`<prefix>.hook.<tenant>.<hookId>`). */
export const WebhookCreated = Type.Object(
  { type: Type.Literal('webhook.created.v1'), ...webhookEventBase },
  { additionalProperties: false },
);
export type WebhookCreated = Static<typeof WebhookCreated>;

/** A webhook was deleted: nothing is delivered to it from now on (`webhook.deletedAt` is set). */
export const WebhookDeleted = Type.Object(
  { type: Type.Literal('webhook.deleted.v1'), ...webhookEventBase },
  { additionalProperties: false },
);
export type WebhookDeleted = Static<typeof WebhookDeleted>;

export const WebhookEvent = Type.Union([WebhookCreated, WebhookDeleted]);
export type WebhookEvent = Static<typeof WebhookEvent>;

/**
 * A new webhook, minted by the gateway (id and secret): the command service adds who created it
 * and when.
 */
export const CreateWebhook = Type.Object(
  {
    type: Type.Literal('CreateWebhook'),
    webhook: Type.Omit(WebhookRecord, ['createdAt', 'createdBy', 'deletedAt']),
  },
  { additionalProperties: false },
);
export type CreateWebhook = Static<typeof CreateWebhook>;

export const DeleteWebhook = Type.Object(
  { type: Type.Literal('DeleteWebhook'), tenant: Tenant, webhookId: WebhookId },
  { additionalProperties: false },
);
export type DeleteWebhook = Static<typeof DeleteWebhook>;

export const WebhookCommand = Type.Union([CreateWebhook, DeleteWebhook]);
export type WebhookCommand = Static<typeof WebhookCommand>;

export const WebhookCommandResult = Type.Object({
  ok: Type.Literal(true),
  kind: Type.Literal('webhook'),
  /** The webhook after the command (with its secret: the reply goes to the gateway only). */
  webhook: WebhookRecord,
  /** The seq of the webhook's event. */
  version: Type.Integer({ minimum: 1 }),
  /** True when the webhook was deleted already (nothing was written). */
  duplicate: Type.Boolean(),
});
export type WebhookCommandResult = Static<typeof WebhookCommandResult>;

const Count = SafeInteger();
const ShortError = Type.String({ maxLength: 300 });

/** Status bucket, key `<tenant>.<hookId>`: a webhook's delivery health (written by the automation). */
export const WebhookStatus = Type.Object(
  {
    state: Type.Union([Type.Literal('active'), Type.Literal('failing')], {
      description: '`failing` once deliveries have failed for long (see the README)',
    }),
    consecutiveFailures: Count,
    delivered: Count,
    deadLettered: Count,
    lastAttemptAt: Type.Optional(Timestamp),
    lastSuccessAt: Type.Optional(Timestamp),
    lastError: Type.Optional(ShortError),
    failingSince: Type.Optional(Timestamp),
    lastDeliveredSeq: Type.Optional(Seq),
    /** The event being delivered (retried) now. */
    pending: Type.Optional(
      Type.Object(
        {
          seq: Seq,
          eventId: Type.String({ minLength: 1, maxLength: 64 }),
          attempts: Count,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type WebhookStatus = Static<typeof WebhookStatus>;

/** The status as the API shows it (absent status: active, zeros). */
export const WebhookStatusSummary = Type.Object(
  {
    state: WebhookStatus.properties.state,
    consecutiveFailures: Count,
    delivered: Count,
    deadLettered: Count,
    lastAttemptAt: Type.Optional(Timestamp),
    lastSuccessAt: Type.Optional(Timestamp),
    lastError: Type.Optional(ShortError),
    failingSince: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type WebhookStatusSummary = Static<typeof WebhookStatusSummary>;

export const WEBHOOK_DELIVERY_OUTCOMES = [
  'delivered',
  'failed',
  'dead-lettered',
  'refused',
] as const;

/** One delivery attempt: one message on `<prefix>.whd.<tenant>.<hookId>` (deliveries stream). */
export const WebhookDelivery = Type.Object(
  {
    webhookId: WebhookId,
    eventId: Type.String({ minLength: 1, maxLength: 64 }),
    /** The event's seq in the event stream. */
    seq: Seq,
    eventType: WebhookEventType,
    /** 1 for the first attempt at this event. */
    attempt: Type.Integer({ minimum: 1 }),
    at: Timestamp,
    outcome: Type.Union(WEBHOOK_DELIVERY_OUTCOMES.map((o) => Type.Literal(o))),
    /** The receiver's HTTP status, when it answered. */
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    error: Type.Optional(ShortError),
    durationMs: Count,
  },
  { additionalProperties: false },
);
export type WebhookDelivery = Static<typeof WebhookDelivery>;

/** A webhook as the API shows it: never its secret. */
export const Webhook = Type.Object(
  {
    id: WebhookId,
    tenant: Tenant,
    url: WebhookUrl,
    events: Type.Optional(WebhookEvents),
    workflowId: Type.Optional(WebhookWorkflow),
    description: Type.Optional(WebhookDescription),
    createdAt: Timestamp,
    createdBy: PrincipalRef,
    status: WebhookStatusSummary,
  },
  { additionalProperties: false },
);
export type Webhook = Static<typeof Webhook>;

/** The answer to creating a webhook: the only time its secret is shown. */
export const CreatedWebhook = Type.Object(
  { ...Webhook.properties, secret: WebhookSecret },
  { additionalProperties: false },
);
export type CreatedWebhook = Static<typeof CreatedWebhook>;

/** At most this many webhooks per page, and delivery attempts per page. */
const WebhookLimit = SafeInteger({
  minimum: 1,
  maximum: 100,
  default: 50,
  description: 'page size (1 to 100, default 50)',
});
const Cursor = Type.String({
  minLength: 1,
  maxLength: 512,
  description: 'the `nextCursor` of the previous page',
});

/** `GET /v1/webhooks`, `GET /v1/webhooks/:webhookId/deliveries`. */
export const WebhookListQuery = Type.Object(
  { limit: Type.Optional(WebhookLimit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
export type WebhookListQuery = Static<typeof WebhookListQuery>;

export const WebhookParams = Type.Object({ webhookId: WebhookId }, { additionalProperties: false });
export type WebhookParams = Static<typeof WebhookParams>;

export const WebhookPage = Type.Object(
  { items: Type.Array(Webhook), nextCursor: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export type WebhookPage = Static<typeof WebhookPage>;

/** Recent delivery attempts, newest first. */
export const WebhookDeliveryPage = Type.Object(
  { items: Type.Array(WebhookDelivery), nextCursor: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export type WebhookDeliveryPage = Static<typeof WebhookDeliveryPage>;
