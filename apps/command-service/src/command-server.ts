import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { BatchedPublisher, CbHeaders, decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import { CommandRequest, compileValidator, type CommandReply, type CommandType } from '@cb/schemas';
import type { CommandKind, Naming } from '@cb/subjects';
import type { CommandHandler } from './command-handler';
import type { CommandMetrics } from './metrics';
import { failure } from './replies';

const requestValidator = compileValidator(CommandRequest);

const TYPE_OF_KIND: Record<CommandKind, CommandType> = {
  'workflow.define': 'DefineWorkflow',
  'token.create': 'CreateToken',
  'token.fire': 'FireTransition',
  'token.update': 'UpdateToken',
  'token.delete': 'DeleteToken',
};

export interface CommandServerDeps {
  nc: NatsConnection;
  naming: Naming;
  handler: CommandHandler;
  logger: Logger;
  metrics: CommandMetrics;
  /** Commands processed at once; further ones wait in order. */
  concurrency: number;
}

/**
 * Queue-group subscriber on `<prefix>.cmd.>`: any number of replicas share the commands with
 * no load balancer. Every request gets exactly one reply, a result or a coded error. It also
 * answers the gateways' ping (`commandPingSubject`) straight from the subscription callback,
 * ahead of any queued command, so a pong means "subscribed, and the event loop runs".
 */
export class CommandServer {
  private sub: Subscription | null = null;
  private pings: Subscription | null = null;
  private inFlight = 0;
  private readonly waiting: Msg[] = [];
  private idle: (() => void) | null = null;
  private readonly replies: BatchedPublisher;

  constructor(private readonly deps: CommandServerDeps) {
    this.replies = new BatchedPublisher(deps.nc);
  }

  start(): void {
    const { nc, naming } = this.deps;
    this.sub = nc.subscribe(naming.commandWildcard, {
      queue: naming.commandQueueGroup,
      callback: (err, msg) => {
        if (err) {
          this.deps.logger.error({ err }, 'command subscription error');
          return;
        }
        if (this.inFlight >= this.deps.concurrency) this.waiting.push(msg);
        else this.run(msg);
      },
    });
    this.pings = nc.subscribe(naming.commandPingSubject, {
      queue: naming.commandQueueGroup,
      callback: (err, msg) => {
        if (!err && msg.reply) msg.respond();
      },
    });
    this.deps.logger.info(
      { subject: naming.commandWildcard, queue: naming.commandQueueGroup },
      'accepting commands',
    );
  }

  /**
   * Stop taking commands (and answering pings: gateways then stop sending writes here), finish
   * the ones received, then return (bounded by the caller).
   */
  async stop(): Promise<void> {
    const subs = [this.sub, this.pings].filter((s): s is Subscription => s !== null);
    this.sub = null;
    this.pings = null;
    await Promise.all(subs.map((s) => s.drain()));
    if (this.inFlight > 0 || this.waiting.length > 0) {
      await new Promise<void>((resolve) => (this.idle = resolve));
    }
    // Replies are published in batches at setImmediate: let the last batch go out.
    await new Promise((resolve) => setImmediate(resolve));
  }

  get busy(): number {
    return this.inFlight + this.waiting.length;
  }

  private run(msg: Msg): void {
    this.inFlight++;
    void this.process(msg).finally(() => {
      this.inFlight--;
      const next = this.waiting.shift();
      if (next) this.run(next);
      else if (this.inFlight === 0 && this.idle) this.idle();
    });
  }

  private async process(msg: Msg): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = msg.headers?.get(CbHeaders.requestId) || undefined;
    let type = 'invalid';
    let reply: CommandReply;
    try {
      const kind = this.deps.naming.parseCommandSubject(msg.subject);
      const payload = decodeJson(msg.data);
      if (kind === null) {
        reply = failure('VALIDATION_ERROR', `unknown command subject ${msg.subject}`);
      } else if (!requestValidator.check(payload)) {
        reply = failure('VALIDATION_ERROR', 'the command is not valid', {
          errors: requestValidator.errors(payload),
        });
      } else if (payload.command.type !== TYPE_OF_KIND[kind]) {
        reply = failure(
          'VALIDATION_ERROR',
          `subject ${msg.subject} takes ${TYPE_OF_KIND[kind]} commands`,
        );
      } else {
        type = payload.command.type;
        reply = await this.deps.handler.handle(payload, requestId ? { requestId } : {});
      }
    } catch (err) {
      this.deps.logger.error({ err, requestId }, 'command processing failed');
      reply = failure('INTERNAL_ERROR', 'the command failed unexpectedly; it was logged');
    }
    const outcome = reply.ok ? 'ok' : reply.error.code;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    this.deps.metrics.commands.inc({ type, outcome });
    this.deps.metrics.duration.observe({ type }, seconds);
    const log = this.deps.logger;
    if (!reply.ok) {
      log.info(
        { requestId, command: type, code: reply.error.code, ms: seconds * 1000 },
        'command rejected',
      );
    } else if (log.isLevelEnabled('debug')) {
      log.debug({ requestId, command: type, ms: seconds * 1000 }, 'command applied');
    }
    if (msg.reply) this.replies.publish(msg.reply, encodeJson(reply));
  }
}
