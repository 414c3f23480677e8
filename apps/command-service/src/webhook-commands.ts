import { setTimeout as sleep } from 'node:timers/promises';
import { NatsPlatformError, decodeJson } from '@cb/nats';
import {
  WebhookEvent,
  compileValidator,
  type CommandReply,
  type CommandRequest,
  type WebhookCommand,
  type WebhookRecord,
} from '@cb/schemas';
import type { KeyCommandContext, KeyCommandDeps } from './key-commands';
import { failure } from './replies';

const webhookEvent = compileValidator(WebhookEvent);

export type WebhookCommandDeps = KeyCommandDeps;
export type WebhookCommandContext = KeyCommandContext;

/**
 * Webhooks as events on `<prefix>.hook.<tenant>.<hookId>`, exactly like API keys:
 * `webhook.created.v1` when the gateway registers one (it mints the id and the secret),
 * `webhook.deleted.v1` when it is deleted. Each event holds the webhook's whole record after it,
 * so the webhooks bucket (written by the projection) is the last event of each subject. Run by
 * the definitions' lease holder: one writer, and each write carries the expected last subject
 * sequence too.
 */
export class WebhookCommands {
  constructor(private readonly deps: WebhookCommandDeps) {}

  async handle(
    command: WebhookCommand,
    request: CommandRequest,
    context: WebhookCommandContext,
  ): Promise<CommandReply> {
    const tenant = command.type === 'CreateWebhook' ? command.webhook.tenant : command.tenant;
    const webhookId = command.type === 'CreateWebhook' ? command.webhook.id : command.webhookId;
    if (tenant !== request.principal.tenant) {
      // The gateway sends the credential's tenant; anything else is not this caller's webhook.
      return failure('WEBHOOK_NOT_FOUND', `webhook ${webhookId} does not exist`, { webhookId });
    }
    const subject = this.deps.naming.webhookSubject(tenant, webhookId);
    for (let attempt = 0; attempt <= this.deps.maxRetries; attempt++) {
      const last = await this.deps.store.last(subject);
      const current = last === null ? null : decodeWebhook(last.data);
      if (last !== null && current === null) {
        return failure('INTERNAL_ERROR', `the events of webhook ${webhookId} cannot be read`);
      }
      let record: WebhookRecord;
      if (command.type === 'CreateWebhook') {
        if (last !== null) {
          return failure('CONFLICT', `webhook id ${webhookId} is taken; create it again`, {
            webhookId,
          });
        }
        record = {
          ...command.webhook,
          createdAt: this.deps.clock().toISOString(),
          createdBy: request.principal,
        };
      } else {
        if (current === null || last === null) {
          return failure('WEBHOOK_NOT_FOUND', `webhook ${webhookId} does not exist`, { webhookId });
        }
        if (current.webhook.deletedAt !== undefined) return reply(current.webhook, last.seq, true);
        record = { ...current.webhook, deletedAt: this.deps.clock().toISOString() };
      }
      const event: WebhookEvent = {
        type: command.type === 'CreateWebhook' ? 'webhook.created.v1' : 'webhook.deleted.v1',
        eventId: this.deps.newId(),
        occurredAt: this.deps.clock().toISOString(),
        principal: request.principal,
        ...(request.triggeredBy !== undefined ? { triggeredBy: request.triggeredBy } : {}),
        ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
        tenant,
        webhookId,
        webhook: record,
      };
      context.assertMayWrite();
      try {
        const ack = await this.deps.store.append(subject, event, {
          expectedLastSubjectSeq: last?.seq ?? 0,
        });
        return reply(record, ack.seq, false);
      } catch (err) {
        if (err instanceof NatsPlatformError && err.code === 'WRONG_LAST_SEQUENCE') {
          await sleep(Math.random() * 2 ** Math.min(attempt + 1, 6));
          continue;
        }
        if (
          err instanceof NatsPlatformError &&
          (err.code === 'TIMEOUT' || err.code === 'CONNECTION')
        ) {
          throw context.unconfirmed(err);
        }
        throw err;
      }
    }
    return failure('CONFLICT', `webhook ${webhookId} changed concurrently; retry`, { webhookId });
  }
}

function decodeWebhook(data: Uint8Array): WebhookEvent | null {
  const value = decodeJson(data);
  return webhookEvent.check(value) ? value : null;
}

function reply(webhook: WebhookRecord, version: number, duplicate: boolean): CommandReply {
  return { ok: true, kind: 'webhook', webhook, version, duplicate };
}
