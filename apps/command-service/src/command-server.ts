import type { KV } from '@nats-io/kv';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { LeaseManager, type LeaseHandle, type LeaseItem, type RevokeReason } from '@cb/leases';
import { BatchedPublisher, CbHeaders, decodeJson, encodeJson } from '@cb/nats';
import type { Logger } from '@cb/logging';
import {
  CommandRequest,
  commandKindOf,
  commandTypeOfKind,
  compileValidator,
  type CommandReply,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { LeaseLapsedError, type CommandHandler, type CommandMeta } from './command-handler';
import type { CommandMetrics } from './metrics';
import { failure, notOwner } from './replies';

const requestValidator = compileValidator(CommandRequest);

/** New ids tried for a create without one before giving up on landing in an owned partition. */
const ID_ATTEMPTS = 256;

export interface CommandServerDeps {
  nc: NatsConnection;
  naming: Naming;
  handler: CommandHandler;
  logger: Logger;
  metrics: CommandMetrics;
  /** Commands processed at once; further ones wait in order. */
  concurrency: number;
  /** Where the instances keep their leases on the partitions (the meta bucket) and for how long. */
  leases: { kv: KV; ttlMs: number; workerId?: string };
  /** A new token id (UUIDv7); the server draws until one falls in a partition it owns. */
  newId: () => string;
}

/** A partition (or the definitions) this instance owns: its subscription and work in flight. */
interface Owned {
  item: LeaseItem;
  lease: LeaseHandle;
  sub: Subscription;
  inFlight: number;
  idle: (() => void) | null;
}

/**
 * One writer per token: instances share the partitions (and the definitions) through leases,
 * and each subscribes to the command subjects of what it owns only — `<prefix>.cmd.p<n>.>` with
 * no queue group, so a command reaches its partition's owner and no one else (during a hand-over,
 * nobody: the gateway retries). Creates without an id go to any instance that owns a partition
 * (a queue group), which draws the id within its partitions. The handler applies a token's
 * commands one at a time, so the owner decides from memory and a publish is rarely contended.
 * Every request gets exactly one reply, a result or a coded error, except from a subscriber whose
 * lease has lapsed: it stays silent, so only the owner's answer counts.
 * It also answers the gateways' ping straight from the subscription callback, ahead of queued
 * commands, so a pong means "subscribed, and the event loop runs".
 */
export class CommandServer {
  private readonly owned = new Map<LeaseItem, Owned>();
  private anyCreate: Subscription | null = null;
  private pings: Subscription | null = null;
  private inFlight = 0;
  private readonly waiting: Array<{ msg: Msg; owner: Owned | null }> = [];
  private idle: (() => void) | null = null;
  private readonly replies: BatchedPublisher;
  private readonly leases: LeaseManager;

  constructor(private readonly deps: CommandServerDeps) {
    this.replies = new BatchedPublisher(deps.nc);
    const { naming } = deps;
    this.leases = new LeaseManager({
      kv: deps.leases.kv,
      items: [...Array.from({ length: naming.partitions }, (_, p) => p), 'definitions'],
      keys: {
        lease: (item) => naming.commandLeaseKey(item),
        worker: (id) => naming.commandWorkerKey(id),
        workers: naming.commandWorkerKeyFilter,
      },
      generation: 1,
      ttlMs: deps.leases.ttlMs,
      logger: deps.logger.child({ component: 'leases' }),
      ...(deps.leases.workerId !== undefined ? { workerId: deps.leases.workerId } : {}),
      onAcquire: (item, lease) => this.own(item, lease),
      onRevoke: (item, reason) => this.disown(item, reason),
    });
  }

  /** Start answering pings and taking part in the leases; resolves after the first lease round. */
  async start(): Promise<void> {
    const { nc, naming } = this.deps;
    this.pings = nc.subscribe(naming.commandPingSubject, {
      queue: naming.commandQueueGroup,
      callback: (err, msg) => {
        if (!err && msg.reply) msg.respond();
      },
    });
    await this.leases.start();
    this.deps.logger.info(
      { workerId: this.leases.workerId, items: naming.partitions + 1 },
      'sharing the partitions with the other command service instances',
    );
  }

  /**
   * Stop answering pings (gateways then stop sending writes here), hand every partition back
   * after the commands received for it are done, then return (bounded by the caller).
   */
  async stop(): Promise<void> {
    const pings = this.pings;
    this.pings = null;
    await pings?.drain();
    await this.leases.stop();
    const any = this.anyCreate;
    this.anyCreate = null;
    await any?.drain();
    if (this.inFlight > 0 || this.waiting.length > 0) {
      await new Promise<void>((resolve) => (this.idle = resolve));
    }
    // Replies are published in batches at setImmediate: let the last batch go out.
    await new Promise((resolve) => setImmediate(resolve));
  }

  get busy(): number {
    return this.inFlight + this.waiting.length;
  }

  /** Whether its lease rounds succeed (it takes part in sharing the partitions). */
  get leasesHealthy(): boolean {
    return this.leases.healthy;
  }

  /** What this instance owns now (partitions and/or 'definitions'). */
  get ownedItems(): LeaseItem[] {
    return [...this.owned.keys()];
  }

  // ---- ownership -------------------------------------------------------------------------------

  private own(item: LeaseItem, lease: LeaseHandle): void {
    const { nc, naming } = this.deps;
    // What this instance knew of the partition may be stale: the previous owner wrote since.
    if (item !== 'definitions') this.deps.handler.forgetPartition(item);
    const owned: Owned = {
      item,
      lease,
      sub: undefined as unknown as Subscription,
      inFlight: 0,
      idle: null,
    };
    owned.sub = nc.subscribe(naming.commandItemWildcard(item), {
      callback: (err, msg) => {
        if (err) this.deps.logger.error({ err, item }, 'command subscription error');
        else this.accept(msg, owned);
      },
    });
    this.owned.set(item, owned);
    if (item !== 'definitions' && this.anyCreate === null) {
      this.anyCreate = nc.subscribe(naming.anyCreateSubject, {
        queue: naming.commandQueueGroup,
        callback: (err, msg) => {
          if (!err) this.accept(msg, null);
        },
      });
    }
    this.deps.metrics.owned.set(this.owned.size);
  }

  private async disown(item: LeaseItem, reason: RevokeReason): Promise<void> {
    const owned = this.owned.get(item);
    if (!owned) return;
    this.owned.delete(item);
    this.deps.metrics.owned.set(this.owned.size);
    // Nothing new arrives; what arrived (drain: also what was on its way) is finished — or, the
    // lease lost, refused before publishing.
    const drains = [owned.sub.drain()];
    if (![...this.owned.keys()].some((i) => i !== 'definitions') && this.anyCreate) {
      drains.push(this.anyCreate.drain());
      this.anyCreate = null;
    }
    await Promise.all(drains).catch((err: unknown) =>
      this.deps.logger.warn({ err, item }, 'draining a partition subscription failed'),
    );
    if (owned.inFlight > 0) await new Promise<void>((resolve) => (owned.idle = resolve));
    if (item !== 'definitions') this.deps.handler.forgetPartition(item);
    this.deps.logger.info({ item, reason }, 'partition handed over');
  }

  // ---- commands --------------------------------------------------------------------------------

  private accept(msg: Msg, owner: Owned | null): void {
    if (owner) owner.inFlight++;
    if (this.inFlight >= this.deps.concurrency) this.waiting.push({ msg, owner });
    else this.run(msg, owner);
  }

  private run(msg: Msg, owner: Owned | null): void {
    this.inFlight++;
    void this.process(msg, owner).finally(() => {
      this.inFlight--;
      if (owner) this.finished(owner);
      const next = this.waiting.shift();
      if (next) this.run(next.msg, next.owner);
      else if (this.inFlight === 0 && this.idle) this.idle();
    });
  }

  private finished(owned: Owned): void {
    if (--owned.inFlight === 0 && owned.idle) owned.idle();
  }

  private async process(msg: Msg, owner: Owned | null): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = msg.headers?.get(CbHeaders.requestId) || undefined;
    let type = 'invalid';
    let reply: CommandReply | null;
    try {
      const route = this.deps.naming.parseCommandSubject(msg.subject);
      const payload = decodeJson(msg.data);
      if (route === null) {
        reply = failure('VALIDATION_ERROR', `unknown command subject ${msg.subject}`);
      } else if (!requestValidator.check(payload)) {
        reply = failure('VALIDATION_ERROR', 'the command is not valid', {
          errors: requestValidator.errors(payload),
        });
      } else if (commandKindOf(payload.command.type) !== route.kind) {
        reply = failure(
          'VALIDATION_ERROR',
          `subject ${msg.subject} takes ${commandTypeOfKind(route.kind)} commands`,
        );
      } else {
        type = payload.command.type;
        const run = this.runFor(payload, route.route, owner, requestId);
        if ('reply' in run) {
          reply = run.reply;
        } else {
          // A create without an id runs under the partition its new id falls in.
          if (run.owned) run.owned.inFlight++;
          try {
            reply = await this.deps.handler.handle(payload, run.meta);
          } finally {
            if (run.owned) this.finished(run.owned);
          }
        }
      }
    } catch (err) {
      if (err instanceof LeaseLapsedError) {
        reply = null;
      } else {
        this.deps.logger.error({ err, requestId }, 'command processing failed');
        reply = failure('INTERNAL_ERROR', 'the command failed unexpectedly; it was logged');
      }
    }
    if (reply === null) {
      // A lapsed lease: another instance may own the partition and answer this very request.
      this.deps.metrics.commands.inc({ type, outcome: 'unanswered' });
      this.deps.logger.warn({ requestId, command: type }, 'lease lapsed: command left unanswered');
      return;
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

  /**
   * The lease a command runs under (and, for a create without an id, the id and its partition),
   * or the reply when it cannot run here. `null` as the reply means: stay silent — the lease
   * lapsed, so another instance may own the partition and answer this very request.
   */
  private runFor(
    request: CommandRequest,
    route: number | 'definitions' | 'any',
    owner: Owned | null,
    requestId: string | undefined,
  ): { meta: CommandMeta; owned?: Owned } | { reply: CommandReply | null } {
    const base = requestId ? { requestId } : {};
    const command = request.command;
    if (route === 'any') {
      if (command.type !== 'CreateToken' || command.tokenId !== undefined) {
        return {
          reply: failure('VALIDATION_ERROR', 'only creates without a token id go to any instance'),
        };
      }
      const partitions = [...this.owned.values()].filter(
        (o) => o.item !== 'definitions' && o.lease.valid(),
      );
      if (partitions.length === 0) return { reply: notOwner('any partition') };
      for (let i = 0; i < ID_ATTEMPTS; i++) {
        const id = this.deps.newId();
        const mine = partitions.find((o) => o.item === this.deps.naming.tokenPartition(id));
        if (mine) return { meta: { ...base, lease: mine.lease, newTokenId: id }, owned: mine };
      }
      return { reply: notOwner('a partition for the new id') };
    }
    if (owner === null || !owner.lease.valid()) return { reply: null };
    if (route !== 'definitions') {
      const tokenId = 'tokenId' in command ? command.tokenId : undefined;
      if (tokenId === undefined || this.deps.naming.tokenPartition(tokenId) !== route) {
        return {
          reply: failure(
            'VALIDATION_ERROR',
            `the command's token does not belong to partition ${route}`,
          ),
        };
      }
    }
    return { meta: { ...base, lease: owner.lease } };
  }
}
