import type { NatsConnection } from '@nats-io/transport-node';
import {
  CbHeaders,
  classifyNatsError,
  encodeJson,
  isNatsConnected,
  requestCommand,
  type CommandRequestOutcome,
  type RequestMux,
} from '@cb/nats';
import { headers as natsHeaders } from '@nats-io/transport-node';
import {
  commandKindOf,
  type ApiKeyCommandResult,
  type Command,
  type CommandReply,
  type CommandRequest,
  type TokenCommandResult,
  type WebhookCommandResult,
  type WorkflowCommandResult,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { ApiError } from './api-error';
import type { CommandServiceStatus } from './command-probe';

/**
 * Forwards commands to the command service over NATS request/reply. While the command service is
 * known not to answer (`status.down`, from the background ping), a command is not sent at all:
 * 503 COMMAND_SERVICE_UNAVAILABLE at once instead of a 504 after the whole timeout.
 */
export class CommandClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly timeoutMs: number,
    private readonly status: CommandServiceStatus,
  ) {}

  /**
   * Send a command to the instance that owns its token's partition (or the definitions), and
   * return its reply; while the partition changes owner it is sent again until the timeout
   * (`requestCommand`).
   */
  async send(request: CommandRequest, requestId: string): Promise<CommandReply> {
    if (!isNatsConnected(this.nc)) {
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        'the gateway is not connected to NATS; nothing was written — retry shortly',
        { retryAfterSeconds: 1 },
      );
    }
    if (this.status.down) {
      throw new ApiError(
        'COMMAND_SERVICE_UNAVAILABLE',
        'no command service answers; nothing was written — retry shortly',
        { retryAfterSeconds: 1 },
      );
    }
    const h = natsHeaders();
    h.set(CbHeaders.requestId, requestId);
    let outcome: CommandRequestOutcome;
    try {
      outcome = await requestCommand(
        this.mux,
        this.subjectOf(request.command),
        encodeJson(request),
        this.timeoutMs,
        h,
      );
    } catch (err) {
      const e = classifyNatsError(err);
      if (e.code === 'TIMEOUT') {
        throw new ApiError(
          'COMMAND_TIMEOUT',
          `the command service did not answer within ${this.timeoutMs} ms; the write may have happened — retry with the same Idempotency-Key`,
          undefined,
          { cause: err },
        );
      }
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        e.code === 'CONNECTION'
          ? 'NATS is unavailable: the command was not sent, nothing was written — retry shortly'
          : 'NATS is unavailable; the write may or may not have happened — retry with the same Idempotency-Key',
        { retryAfterSeconds: 1 },
        { cause: err },
      );
    }
    switch (outcome.kind) {
      case 'reply':
      case 'not-owner':
        return outcome.reply;
      case 'no-responders':
        throw new ApiError(
          'COMMAND_SERVICE_UNAVAILABLE',
          `no command service took this token's partition within ${this.timeoutMs} ms; nothing was written — retry shortly`,
          { retryAfterSeconds: 1 },
        );
      case 'unreadable':
        throw new ApiError('INTERNAL_ERROR', 'the command service sent an unreadable reply');
      default: {
        const unhandled: never = outcome;
        throw new Error(`unhandled outcome ${JSON.stringify(unhandled)}`);
      }
    }
  }

  /**
   * The command's subject, its kind derived from its type: its token's partition, the
   * definitions, or (a create without an id) any instance.
   */
  private subjectOf(command: Command): string {
    switch (command.type) {
      case 'DefineWorkflow':
        return this.naming.definitionCommandSubject;
      case 'CreateApiKey':
      case 'RevokeApiKey':
        return this.naming.keyCommandSubject(commandKindOf(command.type));
      case 'CreateWebhook':
      case 'DeleteWebhook':
        return this.naming.webhookCommandSubject(commandKindOf(command.type));
      default:
        if (command.tokenId === undefined) return this.naming.anyCreateSubject;
        return this.naming.tokenCommandSubject(
          this.naming.tokenPartition(command.tokenId),
          commandKindOf(command.type),
        );
    }
  }

  /** Send and return the token result, or throw the coded error. */
  async token(request: CommandRequest, requestId: string): Promise<TokenCommandResult> {
    const reply = await this.send(request, requestId);
    if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.kind !== 'token') throw new ApiError('INTERNAL_ERROR', 'unexpected reply kind');
    return reply;
  }

  /** Create or revoke an API key (`key.create`, `key.revoke`). */
  async apiKey(request: CommandRequest, requestId: string): Promise<ApiKeyCommandResult> {
    const reply = await this.send(request, requestId);
    if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.kind !== 'apiKey') throw new ApiError('INTERNAL_ERROR', 'unexpected reply kind');
    return reply;
  }

  /** Register or delete a webhook (`webhook.create`, `webhook.delete`). */
  async webhook(request: CommandRequest, requestId: string): Promise<WebhookCommandResult> {
    const reply = await this.send(request, requestId);
    if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.kind !== 'webhook') throw new ApiError('INTERNAL_ERROR', 'unexpected reply kind');
    return reply;
  }

  async workflow(request: CommandRequest, requestId: string): Promise<WorkflowCommandResult> {
    const reply = await this.send(request, requestId);
    if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.kind !== 'workflow') throw new ApiError('INTERNAL_ERROR', 'unexpected reply kind');
    return reply;
  }
}
