import type { NatsConnection } from '@nats-io/transport-node';
import {
  CbHeaders,
  classifyNatsError,
  decodeJson,
  encodeJson,
  isNatsConnected,
  type RequestMux,
} from '@cb/nats';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type {
  CommandReply,
  CommandRequest,
  TokenCommandResult,
  WorkflowCommandResult,
} from '@cb/schemas';
import type { CommandKind, Naming } from '@cb/subjects';
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

  async send(kind: CommandKind, request: CommandRequest, requestId: string): Promise<CommandReply> {
    if (!isNatsConnected(this.nc)) {
      throw new ApiError(
        'SERVICE_UNAVAILABLE',
        'the gateway is not connected to NATS; retry shortly',
        {
          retryAfterSeconds: 1,
        },
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
    let data: Uint8Array;
    try {
      const msg = await this.mux.request(
        this.naming.commandSubject(kind),
        encodeJson(request),
        this.timeoutMs,
        h,
      );
      data = msg.data;
    } catch (err) {
      const e = classifyNatsError(err);
      if (e.code === 'NO_RESPONDERS') {
        throw new ApiError(
          'COMMAND_SERVICE_UNAVAILABLE',
          'no command service is running; retry shortly',
          {
            retryAfterSeconds: 1,
          },
          { cause: err },
        );
      }
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
        'NATS is unavailable; retry shortly',
        { retryAfterSeconds: 1 },
        { cause: err },
      );
    }
    const reply = decodeJson(data) as CommandReply | undefined;
    if (reply === undefined || typeof reply !== 'object' || typeof reply.ok !== 'boolean') {
      throw new ApiError('INTERNAL_ERROR', 'the command service sent an unreadable reply');
    }
    return reply;
  }

  /** Send and return the token result, or throw the coded error. */
  async token(
    kind: CommandKind,
    request: CommandRequest,
    requestId: string,
  ): Promise<TokenCommandResult> {
    const reply = await this.send(kind, request, requestId);
    if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.kind !== 'token') throw new ApiError('INTERNAL_ERROR', 'unexpected reply kind');
    return reply;
  }

  async workflow(request: CommandRequest, requestId: string): Promise<WorkflowCommandResult> {
    const reply = await this.send('workflow.define', request, requestId);
    if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.kind !== 'workflow') throw new ApiError('INTERNAL_ERROR', 'unexpected reply kind');
    return reply;
  }
}
