import { setTimeout as sleep } from 'node:timers/promises';
import {
  decideToken,
  decideWorkflow,
  definitionShapeErrors,
  guardRequestsFor,
  jsonDepthExceeds,
  type DecideContext,
  type DomainError,
  type GuardVerdicts,
} from '@cb/domain';
import { GuardPoolError, definitionKeyOf, type GuardPool } from '@cb/guard-pool';
import type { LeaseHandle } from '@cb/leases';
import { CbHeaders, NatsPlatformError, isNatsOutage, type EventStore } from '@cb/nats';
import type { Logger } from '@cb/logging';
import {
  MAX_JSON_DEPTH,
  type CbEvent,
  type CommandReply,
  type CommandRequest,
  type DefineWorkflow,
  type FieldError,
  type TokenCommand,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { uuidv7 } from './ids';
import { KeyCommands } from './key-commands';
import { KeyedQueue } from './keyed-queue';
import { WebhookCommands } from './webhook-commands';
import { commandHash, type IdempotencyRecords } from './idempotency';
import { failure, replyFromEvent } from './replies';
import { toStoredEvent } from './stored-event';
import type { LoadedToken, TokenRepository } from './token-repository';
import type { WorkflowRepository } from './workflow-repository';

export interface CommandHandlerDeps {
  naming: Naming;
  store: EventStore;
  tokens: TokenRepository;
  workflows: WorkflowRepository;
  idempotency: IdempotencyRecords;
  /** Where guards are compiled and evaluated, off this event loop and within a time budget. */
  guards: GuardPool;
  /** Retries of a write without an expected version that lost a race. */
  maxRetries: number;
  logger: Logger;
  clock?: () => Date;
  newId?: () => string;
}

export interface CommandMeta {
  requestId?: string;
  /**
   * The lease of the partition (or the definitions) the command runs under, when the command
   * service owns it: the state this instance keeps is then authoritative (no other writer), and a
   * command whose lease lapses before its event is published is abandoned (LeaseLapsedError).
   */
  lease?: LeaseHandle;
  /** For a create without an id: the id, drawn within a partition this instance owns. */
  newTokenId?: string;
}

/** A publish that was sent and not confirmed: the stream may or may not have stored the event. */
class PublishUnconfirmed extends Error {
  constructor(cause: unknown) {
    super('the publish was not confirmed', { cause });
    this.name = 'PublishUnconfirmed';
  }
}

/**
 * The command's lease lapsed before its event was published: nothing was written, and another
 * instance may own the partition now and answer the same request, so this one stays silent.
 */
export class LeaseLapsedError extends Error {
  constructor() {
    super('the lease lapsed before the event was published; nothing was written');
    this.name = 'LeaseLapsedError';
  }
}

const ABSENT_TOKEN: LoadedToken = {
  state: { status: 'absent' },
  version: 0,
  lastSubjectSeq: 0,
  last: null,
  cached: false,
};

/** What one attempt produced: a reply, or "lost the race, try again on fresh state". */
type Attempt = { reply: CommandReply } | { retry: true };

/**
 * Load state (one direct get), decide (pure), append one event with the expected last subject
 * sequence, reply. Idempotency-Keys become the event's msg id; a retry returns the original
 * result. Without If-Match, a lost race is retried on fresh state and the decider re-validates.
 */
export class CommandHandler {
  private readonly clock: () => Date;
  private readonly serial = new KeyedQueue();
  private readonly newId: () => string;

  private readonly keys: KeyCommands;
  private readonly webhooks: WebhookCommands;

  constructor(private readonly deps: CommandHandlerDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.newId = deps.newId ?? (() => uuidv7());
    const commandDeps = {
      naming: deps.naming,
      store: deps.store,
      maxRetries: deps.maxRetries,
      clock: this.clock,
      newId: this.newId,
    };
    this.keys = new KeyCommands(commandDeps);
    this.webhooks = new WebhookCommands(commandDeps);
  }

  /**
   * One command, after those of the same token (or workflow definition) received before it.
   * Throws LeaseLapsedError when the command must go unanswered (see there).
   */
  async handle(request: CommandRequest, meta: CommandMeta = {}): Promise<CommandReply> {
    // Everything below may recurse into the payload (hashing, merge patch, guards): bound it first.
    if (jsonDepthExceeds(request, MAX_JSON_DEPTH + 4)) {
      return failure(
        'VALIDATION_ERROR',
        `data and metadata may nest at most ${MAX_JSON_DEPTH} levels`,
      );
    }
    const command = request.command;
    if (command.type === 'CreateApiKey' || command.type === 'RevokeApiKey') {
      const tenant = command.type === 'CreateApiKey' ? command.key.tenant : command.tenant;
      const id = command.type === 'CreateApiKey' ? command.key.id : command.keyId;
      return this.serial.run(`key:${tenant}/${id}`, async () => {
        try {
          return await this.keys.handle(command, request, {
            ...(meta.requestId !== undefined ? { requestId: meta.requestId } : {}),
            assertMayWrite: () => {
              if (meta.lease !== undefined && !meta.lease.valid()) throw new LeaseLapsedError();
            },
            unconfirmed: (cause) => new PublishUnconfirmed(cause),
          });
        } catch (err) {
          if (err instanceof LeaseLapsedError) throw err;
          return this.unexpected(err, request);
        }
      });
    }
    if (command.type === 'CreateWebhook' || command.type === 'DeleteWebhook') {
      const tenant = command.type === 'CreateWebhook' ? command.webhook.tenant : command.tenant;
      const id = command.type === 'CreateWebhook' ? command.webhook.id : command.webhookId;
      return this.serial.run(`hook:${tenant}/${id}`, async () => {
        try {
          return await this.webhooks.handle(command, request, {
            ...(meta.requestId !== undefined ? { requestId: meta.requestId } : {}),
            assertMayWrite: () => {
              if (meta.lease !== undefined && !meta.lease.valid()) throw new LeaseLapsedError();
            },
            unconfirmed: (cause) => new PublishUnconfirmed(cause),
          });
        } catch (err) {
          if (err instanceof LeaseLapsedError) throw err;
          return this.unexpected(err, request);
        }
      });
    }
    const tenant = request.principal.tenant;
    const key =
      command.type === 'DefineWorkflow'
        ? `wf:${tenant}/${command.definition.id}`
        : `tok:${tenant}/${command.workflowId}/${command.tokenId ?? meta.newTokenId ?? ''}`;
    return this.serial.run(key, async () => {
      try {
        return command.type === 'DefineWorkflow'
          ? await this.defineWorkflow(command, request, meta)
          : await this.tokenCommand(command, request, meta);
      } catch (err) {
        if (err instanceof LeaseLapsedError) throw err;
        return this.unexpected(err, request);
      }
    });
  }

  /** Forget what this instance knows of a partition's tokens (it changes owner). */
  forgetPartition(partition: number): void {
    this.deps.tokens.forgetPartition(partition);
  }

  private async defineWorkflow(
    command: DefineWorkflow,
    request: CommandRequest,
    meta: CommandMeta,
  ): Promise<CommandReply> {
    const { workflows, idempotency } = this.deps;
    const id = command.definition.id;
    const tenant = request.principal.tenant;
    const hash = request.idempotencyKey ? commandHash(request) : undefined;
    // Scoped to the tenant: another tenant's key never returns this one's result.
    const digest = request.idempotencyKey
      ? idempotency.digest(['DefineWorkflow', tenant, command.mode, id], request.idempotencyKey)
      : undefined;
    const remembered = digest ? await idempotency.lookup(digest) : null;
    if (remembered !== null) return this.replay(remembered, hash);

    // Compiling guards costs milliseconds per kilobyte: it runs in the pool, and its errors
    // are reported by the decider with every other problem of the definition.
    let guardErrors: FieldError[] | undefined;
    if (definitionShapeErrors(command.definition).length === 0) {
      const compiled = await this.deps.guards.compile(
        command.definition.transitions,
        `define:${tenant}/${id}`,
      );
      if ('tooExpensive' in compiled) {
        return failure(
          'GUARD_TOO_EXPENSIVE',
          `the guards cannot be checked: ${compiled.tooExpensive}`,
        );
      }
      guardErrors = compiled.errors;
    }

    return this.withRetries(request, async () => {
      const loaded = await workflows.latest(tenant, id);
      if (digest && loaded.last?.msgId === digest)
        return { reply: await this.replay(loaded.last.seq, hash) };
      if (
        command.mode === 'version' &&
        request.expectedVersion !== undefined &&
        loaded.latest !== null &&
        loaded.latest.version !== request.expectedVersion
      ) {
        return { reply: this.versionMismatch(request.expectedVersion, loaded.latest.version) };
      }
      const decision = decideWorkflow(command, loaded.latest, {
        ...this.context(request, meta, ''),
        ...(guardErrors !== undefined && { guardErrors }),
      });
      if (!decision.ok) return { reply: this.rejected(decision.error) };
      const attempt = await this.append(
        this.deps.naming.workflowSubject(tenant, id),
        decision.value,
        loaded.lastSubjectSeq,
        request,
        meta,
        digest,
        hash,
      );
      if ('reply' in attempt && attempt.reply.ok && attempt.reply.kind === 'workflow') {
        workflows.compile(tenant, decision.value.definition);
      }
      return attempt;
    });
  }

  private async tokenCommand(
    command: TokenCommand,
    request: CommandRequest,
    meta: CommandMeta,
  ): Promise<CommandReply> {
    const { tokens, workflows, idempotency } = this.deps;
    const tenant = request.principal.tenant;
    const generated = command.type === 'CreateToken' && command.tokenId === undefined;
    const tokenId =
      command.type === 'CreateToken'
        ? (command.tokenId ?? meta.newTokenId ?? this.newId())
        : command.tokenId;
    const hash = request.idempotencyKey ? commandHash(request) : undefined;
    const digest = request.idempotencyKey
      ? idempotency.digest(
          [command.type, tenant, command.workflowId, generated ? '' : tokenId],
          request.idempotencyKey,
        )
      : undefined;
    const remembered = digest ? await idempotency.lookup(digest) : null;
    if (remembered !== null) return this.replay(remembered, hash);

    if (command.type === 'FireTransition') {
      const refused = this.quarantined(tenant, command.workflowId, tokenId, command.transition);
      if (refused !== null) return refused;
    }

    if (command.type === 'CreateToken' && !generated) {
      // Token ids are unique across a tenant's workflows (GET /v1/tokens/:id): refuse one used
      // elsewhere in the tenant.
      const owner = await tokens.workflowOf(tenant, tokenId);
      if (owner !== null && owner !== command.workflowId) {
        return failure('TOKEN_EXISTS', `token ${tokenId} already exists in another workflow`, {
          tokenId,
        });
      }
    }

    const attempt = async (loaded: LoadedToken): Promise<Attempt> => {
      if (digest && loaded.last?.msgId === digest)
        return { reply: await this.replay(loaded.last.seq, hash) };
      if (
        command.type !== 'CreateToken' &&
        loaded.state.status === 'live' &&
        request.expectedVersion !== undefined &&
        loaded.version !== request.expectedVersion
      ) {
        return { reply: this.versionMismatch(request.expectedVersion, loaded.version) };
      }
      const workflow =
        command.type === 'CreateToken' || loaded.state.status !== 'live'
          ? await workflows.latestCompiled(tenant, command.workflowId)
          : await workflows.version(
              tenant,
              command.workflowId,
              loaded.state.token.definitionVersion,
            );
      const requests = guardRequestsFor(command, loaded.state, workflow);
      const guardVerdicts: GuardVerdicts | undefined =
        requests.length > 0 && workflow !== null
          ? await this.deps.guards.evaluate(
              workflow.definition,
              requests,
              definitionKeyOf(tenant, workflow.definition.id, workflow.definition.version),
            )
          : undefined;
      const decision = decideToken(command, loaded.state, workflow, {
        ...this.context(request, meta, tokenId),
        ...(guardVerdicts !== undefined && { guardVerdicts }),
      });
      if (!decision.ok) return { reply: this.rejected(decision.error) };
      const result = await this.append(
        this.deps.naming.tokenSubject(tenant, command.workflowId, tokenId),
        decision.value,
        loaded.lastSubjectSeq,
        request,
        meta,
        digest,
        hash,
      ).catch((err: unknown) => {
        // Whether the event was stored is unknown: what this instance keeps of the token may be
        // stale now; the next command reads the stream.
        if (err instanceof PublishUnconfirmed) tokens.forget(tenant, command.workflowId, tokenId);
        throw err;
      });
      if ('retry' in result) tokens.forget(tenant, command.workflowId, tokenId);
      else if (result.reply.ok && result.reply.kind === 'token' && !result.reply.duplicate) {
        tokens.remember(tenant, decision.value, result.reply.token.version, digest, hash);
      }
      return result;
    };

    // The partition's owner is its only writer: what it keeps of a token is the token's state.
    const owner = meta.lease !== undefined;
    return this.withRetries(request, async () => {
      if (generated) return attempt(ABSENT_TOKEN);
      const loaded = await tokens.load(tenant, command.workflowId, tokenId, { keep: owner });
      const result = await attempt(loaded);
      // Without ownership a cached state may be stale: never reject on it; decide again on the
      // stream's state — unless that is the state the cache held, for which the decision (pure)
      // is the same. So a guard is not evaluated twice for one rejection.
      if (!owner && loaded.cached && 'reply' in result && !result.reply.ok) {
        tokens.forget(tenant, command.workflowId, tokenId);
        const fresh = await tokens.load(tenant, command.workflowId, tokenId, { fresh: true });
        if (fresh.lastSubjectSeq === loaded.lastSubjectSeq) return result;
        return attempt(fresh);
      }
      return result;
    });
  }

  /**
   * A quarantined transition is refused before the token is even read: its guard keeps overrunning
   * its budget, and reading a large token for each refusal would keep the attack expensive. The
   * token's definition version (which never changes) is known once this instance has read it.
   */
  private quarantined(
    tenant: string,
    workflowId: string,
    tokenId: string,
    transition: string,
  ): CommandReply | null {
    const version = this.deps.tokens.knownDefinitionVersion(tenant, workflowId, tokenId);
    if (version === undefined) return null;
    const until = this.deps.guards.quarantinedUntil(
      definitionKeyOf(tenant, workflowId, version),
      transition,
    );
    if (until === undefined) return null;
    return failure(
      'GUARD_TOO_EXPENSIVE',
      `guard of transition "${transition}" could not be evaluated: it keeps overrunning its budget; the transition is quarantined until ${until}`,
      { transition, quarantinedUntil: until },
    );
  }

  /** Publish the event; map a lost race to a retry, or to VERSION_MISMATCH under If-Match. */
  private async append(
    subject: string,
    event: CbEvent,
    expectedLastSubjectSeq: number,
    request: CommandRequest,
    meta: CommandMeta,
    digest: string | undefined,
    hash: string | undefined,
  ): Promise<Attempt> {
    // Past its lease the instance may no longer be the only writer: publish nothing.
    if (meta.lease !== undefined && !meta.lease.valid()) throw new LeaseLapsedError();
    const headers: Record<string, string> = {};
    if (hash) headers[CbHeaders.commandHash] = hash;
    if (meta.requestId) headers[CbHeaders.requestId] = meta.requestId;
    let ack: { seq: number; duplicate: boolean };
    try {
      ack = await this.deps.store.append(subject, event, {
        expectedLastSubjectSeq,
        ...(digest ? { msgId: digest } : {}),
        headers,
      });
    } catch (err) {
      if (err instanceof NatsPlatformError && err.code === 'WRONG_LAST_SEQUENCE') {
        if (request.expectedVersion !== undefined && request.command.type !== 'CreateToken') {
          return { reply: this.versionMismatch(request.expectedVersion, null) };
        }
        return { retry: true };
      }
      // Sent, but no answer: the stream may have stored it. Anything else refused it.
      if (
        err instanceof NatsPlatformError &&
        (err.code === 'TIMEOUT' || err.code === 'CONNECTION')
      ) {
        throw new PublishUnconfirmed(err);
      }
      throw err;
    }
    if (ack.duplicate) {
      try {
        return { reply: await this.replay(ack.seq, hash) };
      } catch (err) {
        throw new PublishUnconfirmed(err);
      }
    }
    if (digest) await this.deps.idempotency.remember(digest, ack.seq);
    return { reply: replyFromEvent(event, ack.seq, false) };
  }

  private async withRetries(
    request: CommandRequest,
    attempt: () => Promise<Attempt>,
  ): Promise<CommandReply> {
    const max = this.deps.maxRetries;
    for (let i = 0; i <= max; i++) {
      const result = await attempt();
      if ('reply' in result) return result.reply;
      if (i < max) await sleep(Math.random() * 2 ** Math.min(i + 1, 6));
    }
    this.deps.logger.warn(
      { command: request.command.type, retries: max },
      'write kept losing concurrent races',
    );
    return failure(
      'CONFLICT',
      `the write conflicted with concurrent writes ${max + 1} times; retry later`,
      {
        attempts: max + 1,
      },
    );
  }

  /** The original result of an idempotent retry (the event at `seq`). */
  private async replay(seq: number, hash: string | undefined): Promise<CommandReply> {
    const msg = await this.deps.store.at(seq);
    const stored = msg ? toStoredEvent(msg) : null;
    if (stored === null || stored.event === null) {
      return failure('CONFLICT', 'the original result of this Idempotency-Key cannot be read', {
        seq,
      });
    }
    if (stored.commandHash !== undefined && hash !== undefined && stored.commandHash !== hash) {
      return failure(
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used with a different request',
        { seq },
      );
    }
    return replyFromEvent(stored.event, seq, true);
  }

  private context(request: CommandRequest, meta: CommandMeta, newTokenId: string): DecideContext {
    return {
      now: this.clock().toISOString(),
      eventId: this.newId(),
      newTokenId,
      principal: request.principal,
      ...(request.triggeredBy !== undefined ? { triggeredBy: request.triggeredBy } : {}),
      ...(meta.requestId !== undefined ? { requestId: meta.requestId } : {}),
    };
  }

  private rejected(error: DomainError): CommandReply {
    return failure(error.code, error.message, error.details);
  }

  private versionMismatch(expected: number, actual: number | null): CommandReply {
    return failure(
      'VERSION_MISMATCH',
      actual === null
        ? `version ${expected} is no longer current`
        : `expected version ${expected} but the current version is ${actual}`,
      { expectedVersion: expected, ...(actual !== null ? { currentVersion: actual } : {}) },
    );
  }

  private unexpected(err: unknown, request: CommandRequest): CommandReply {
    if (err instanceof GuardPoolError) {
      this.deps.logger.warn({ err, command: request.command.type }, 'guard pool unavailable');
      return failure('SERVICE_UNAVAILABLE', `${err.message}; nothing was written`, {
        retryAfterSeconds: 1,
      });
    }
    if (err instanceof PublishUnconfirmed) {
      this.deps.logger.warn(
        { err: err.cause, command: request.command.type },
        'publish unconfirmed',
      );
      return failure(
        'SERVICE_UNAVAILABLE',
        'the event store did not confirm the write; it may or may not have happened — retry with the same Idempotency-Key',
        { retryAfterSeconds: 1 },
      );
    }
    if (err instanceof NatsPlatformError && err.code === 'MAX_PAYLOAD') {
      return failure('PAYLOAD_TOO_LARGE', `the resulting event is too large: ${err.message}`);
    }
    // NATS could not serve a read, or a publish it refused (no stream leader during an election,
    // no quorum, a bucket without a leader) — whichever client raised it: nothing was written.
    if (
      isNatsOutage(err) ||
      (err instanceof NatsPlatformError && err.code === 'STREAM_NOT_FOUND')
    ) {
      this.deps.logger.warn({ err, command: request.command.type }, 'event store unavailable');
      return failure(
        'SERVICE_UNAVAILABLE',
        'the event store is unavailable (e.g. electing a leader); nothing was written — retry shortly',
        { retryAfterSeconds: 1 },
      );
    }
    this.deps.logger.error({ err, command: request.command.type }, 'command failed unexpectedly');
    return failure('INTERNAL_ERROR', 'the command failed unexpectedly; it was logged');
  }
}
