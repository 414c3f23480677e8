import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { randomBase62 } from '@cb/auth';
import { checkTargetUrl, type ResolveAll } from '@cb/ops';
import {
  CreateWebhookBody,
  CreatedWebhook,
  Problem,
  Webhook,
  WebhookDeliveryPage,
  WebhookListQuery,
  WebhookPage,
  WebhookParams,
  type WebhookEntry,
} from '@cb/schemas';
import { ApiError } from '../api-error';
import { principalRefOf, tenantOf } from '../auth/principal';
import type { CommandClient } from '../command-client';
import { decodeCursor, encodeCursor } from '../read/cursor';
import { toWebhook, type WebhookReads } from '../read/webhooks';

/** Live (not deleted) webhooks a tenant may have; one more is 409 WEBHOOK_LIMIT. */
export const MAX_WEBHOOKS_PER_TENANT = 100;

export interface WebhookRouteDeps {
  commands: CommandClient;
  webhooks: WebhookReads;
  /** WEBHOOK_ALLOW_PRIVATE_NETWORKS: accept targets in private and loopback ranges. */
  allowPrivateNetworks: boolean;
  /** How long a create or delete waits for the webhooks projection (MIN_SEQ_WAIT_MS). */
  projectionWaitMs: number;
  /** Resolver for the target check (tests pass their own; default `dns.lookup`). */
  lookup?: ResolveAll;
}

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 503: Problem };
const NO_STORE = 'no-store';

/**
 * Webhooks of the credential's tenant (scope `webhooks:admin`): registered and deleted through
 * the command service (recorded events), read from the webhooks bucket the projection writes,
 * with the status and the recent attempts the automation records. A webhook of another tenant,
 * or a deleted one, answers exactly like one that does not exist. The signing secret is shown
 * once, in the answer to the creation.
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRouteDeps> = async (app, deps) => {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { commands, webhooks } = deps;

  api.post(
    '/v1/webhooks',
    {
      config: {
        scope: 'webhooks:admin',
        responseHeaders: { 201: ['Location', 'Cache-Control'] },
      },
      schema: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary:
          "Register a webhook: the tenant's token events after this moment are delivered to `url`, signed (Standard Webhooks); the response is the only time its secret is shown",
        body: CreateWebhookBody,
        response: { 201: CreatedWebhook, ...errors, 409: Problem, 504: Problem },
      },
    },
    async (req, reply) => {
      const tenant = tenantOf(req);
      refuseIdempotencyKey(req);
      const check = await checkTargetUrl(req.body.url, {
        allowPrivate: deps.allowPrivateNetworks,
        ...(deps.lookup ? { lookup: deps.lookup } : {}),
      });
      if (!check.ok) {
        throw new ApiError(check.code, `webhook url refused: ${check.reason}`, {
          reason: check.reason,
        });
      }
      const live = (await webhooks.list(tenant)).filter((w) => w.deletedAt === undefined);
      if (live.length >= MAX_WEBHOOKS_PER_TENANT) {
        throw new ApiError(
          'WEBHOOK_LIMIT',
          `tenant ${tenant} has ${MAX_WEBHOOKS_PER_TENANT} webhooks already; delete one first`,
          { limit: MAX_WEBHOOKS_PER_TENANT },
        );
      }
      const { webhook } = await commands.webhook(
        {
          command: {
            type: 'CreateWebhook',
            webhook: {
              ...req.body,
              id: `wh_${randomBase62(16)}`,
              tenant,
              secret: `whsec_${randomBytes(24).toString('base64')}`,
            },
          },
          principal: principalRefOf(req),
        },
        req.id,
      );
      // Listed (and delivered to) by the time the answer arrives, unless the projection lags:
      // it then appears moments later — the secret is shown now or never.
      await waitFor(
        () => webhooks.get(tenant, webhook.id),
        (stored) => stored !== null,
        deps.projectionWaitMs,
      );
      const { secret, deletedAt: _deletedAt, ...shown } = webhook;
      return reply
        .code(201)
        .header('location', `/v1/webhooks/${webhook.id}`)
        .header('cache-control', NO_STORE)
        .send({ ...shown, status: await webhooks.statusOf(tenant, webhook.id), secret });
    },
  );

  api.get(
    '/v1/webhooks',
    {
      config: { scope: 'webhooks:admin' },
      schema: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: "The tenant's webhooks (never their secrets) with their status, ordered by id",
        querystring: WebhookListQuery,
        response: { 200: WebhookPage, ...errors },
      },
    },
    async (req) => {
      const tenant = tenantOf(req);
      const list = `webhooks:${tenant}`;
      const after = decodeCursor(list, req.query.cursor, 'id');
      const limit = req.query.limit ?? 50;
      const all = (await webhooks.list(tenant)).filter(
        (w) => w.deletedAt === undefined && (after === undefined || w.id > after),
      );
      const page = all.slice(0, limit);
      const last = page.at(-1);
      return {
        items: await Promise.all(
          page.map(async (w) => toWebhook(w, await webhooks.statusOf(tenant, w.id))),
        ),
        ...(all.length > limit && last ? { nextCursor: encodeCursor(list, last.id) } : {}),
      };
    },
  );

  api.get(
    '/v1/webhooks/:webhookId',
    {
      config: { scope: 'webhooks:admin' },
      schema: {
        operationId: 'getWebhook',
        tags: ['webhooks'],
        summary: 'One webhook (never its secret) with its delivery status',
        params: WebhookParams,
        response: { 200: Webhook, ...errors },
      },
    },
    async (req) => {
      const tenant = tenantOf(req);
      const entry = await live(webhooks, tenant, req.params.webhookId);
      return toWebhook(entry, await webhooks.statusOf(tenant, entry.id));
    },
  );

  api.delete(
    '/v1/webhooks/:webhookId',
    {
      config: { scope: 'webhooks:admin' },
      schema: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary:
          'Delete a webhook: nothing more is delivered to it; afterwards it answers 404 like one that never existed',
        params: WebhookParams,
        response: { 204: Type.Null(), ...errors, 504: Problem },
      },
    },
    async (req, reply) => {
      const tenant = tenantOf(req);
      const entry = await live(webhooks, tenant, req.params.webhookId);
      refuseIdempotencyKey(req);
      await commands.webhook(
        {
          command: { type: 'DeleteWebhook', tenant, webhookId: entry.id },
          principal: principalRefOf(req),
        },
        req.id,
      );
      const applied = await waitFor(
        () => webhooks.get(tenant, entry.id),
        (stored) => stored?.deletedAt !== undefined,
        deps.projectionWaitMs,
      );
      if (!applied) {
        throw new ApiError(
          'PROJECTION_LAGGING',
          `the deletion of webhook ${entry.id} is recorded but not in effect yet; nothing more will be delivered to it once it is`,
          { retryAfterSeconds: 1 },
        );
      }
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/v1/webhooks/:webhookId/deliveries',
    {
      config: { scope: 'webhooks:admin' },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary:
          "A webhook's recent delivery attempts, newest first (the last 200 within 7 days are kept): event id and seq, attempt, outcome, HTTP status or error, duration",
        params: WebhookParams,
        querystring: WebhookListQuery,
        response: { 200: WebhookDeliveryPage, ...errors },
      },
    },
    async (req) => {
      const tenant = tenantOf(req);
      const entry = await live(webhooks, tenant, req.params.webhookId);
      const list = `deliveries:${tenant}:${entry.id}`;
      const before = Number(decodeCursor(list, req.query.cursor, 'seq') ?? Infinity);
      const limit = req.query.limit ?? 50;
      const newest = (await webhooks.deliveries(tenant, entry.id))
        .filter((d) => d.streamSeq < before)
        .sort((a, b) => b.streamSeq - a.streamSeq);
      const page = newest.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((d) => d.delivery),
        ...(newest.length > limit && last
          ? { nextCursor: encodeCursor(list, String(last.streamSeq)) }
          : {}),
      };
    },
  );
};

/** The tenant's webhook unless deleted; otherwise exactly what a missing one answers. */
async function live(webhooks: WebhookReads, tenant: string, id: string): Promise<WebhookEntry> {
  const entry = await webhooks.get(tenant, id);
  if (entry === null || entry.deletedAt !== undefined) {
    throw new ApiError('WEBHOOK_NOT_FOUND', `webhook ${id} does not exist`, { webhookId: id });
  }
  return entry;
}

/** A created webhook's secret exists in one response only: a replay could not show it again. */
function refuseIdempotencyKey(req: FastifyRequest): void {
  if (req.headers['idempotency-key'] !== undefined) {
    throw new ApiError(
      'VALIDATION_ERROR',
      'Idempotency-Key is not supported on webhooks (a secret is shown once; a deleted webhook answers 404)',
      { errors: [{ path: 'headers/idempotency-key', message: 'is not supported here' }] },
    );
  }
}

/** Read until `done` holds or `ms` pass (every 20 ms); whether it held. */
async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  ms: number,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (done(await read())) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
