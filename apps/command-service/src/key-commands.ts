import { setTimeout as sleep } from 'node:timers/promises';
import { NatsPlatformError, decodeJson, type EventStore } from '@cb/nats';
import {
  KeyEvent,
  compileValidator,
  type ApiKeyRecord,
  type CommandReply,
  type CommandRequest,
  type KeyCommand,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { failure } from './replies';

const keyEvent = compileValidator(KeyEvent);

export interface KeyCommandDeps {
  naming: Naming;
  store: EventStore;
  maxRetries: number;
  clock: () => Date;
  newId: () => string;
}

/** What a key command needs of the handler it runs in. */
export interface KeyCommandContext {
  requestId?: string;
  /** Throws when the instance may no longer write (its definitions lease lapsed). */
  assertMayWrite(): void;
  /** The stream may or may not have stored the event (a publish sent, never confirmed). */
  unconfirmed(cause: unknown): Error;
}

/**
 * API keys as events on `<prefix>.key.<tenant>.<keyId>`: `apikey.created.v1` when the gateway
 * mints one (it alone sees the secret; the command carries its hash), `apikey.revoked.v1` when it
 * is revoked. Each event holds the key's whole record after it, so the keys bucket (written by
 * the projection) is the last event of each subject. Run by the definitions' lease holder: one
 * writer, and each subject's writes carry the expected last subject sequence too.
 */
export class KeyCommands {
  constructor(private readonly deps: KeyCommandDeps) {}

  async handle(
    command: KeyCommand,
    request: CommandRequest,
    context: KeyCommandContext,
  ): Promise<CommandReply> {
    const tenant = command.type === 'CreateApiKey' ? command.key.tenant : command.tenant;
    const keyId = command.type === 'CreateApiKey' ? command.key.id : command.keyId;
    const subject = this.deps.naming.apiKeySubject(tenant, keyId);
    for (let attempt = 0; attempt <= this.deps.maxRetries; attempt++) {
      const last = await this.deps.store.last(subject);
      const current = last === null ? null : decodeKey(last.data);
      if (last !== null && current === null) {
        // Not a key event: the subject holds something no command service wrote.
        return failure('INTERNAL_ERROR', `the events of key ${keyId} cannot be read`);
      }
      let record: ApiKeyRecord;
      if (command.type === 'CreateApiKey') {
        if (last !== null) {
          return failure('CONFLICT', `key id ${keyId} is taken; create the key again`, { keyId });
        }
        record = {
          ...command.key,
          createdAt: this.deps.clock().toISOString(),
          createdBy: request.principal,
        };
      } else {
        if (current === null || last === null) {
          return failure('KEY_NOT_FOUND', `key ${keyId} does not exist`, { keyId });
        }
        if (current.key.revokedAt !== undefined) return reply(current.key, last.seq, true);
        record = { ...current.key, revokedAt: this.deps.clock().toISOString() };
      }
      const event: KeyEvent = {
        type: command.type === 'CreateApiKey' ? 'apikey.created.v1' : 'apikey.revoked.v1',
        eventId: this.deps.newId(),
        occurredAt: this.deps.clock().toISOString(),
        principal: request.principal,
        ...(request.triggeredBy !== undefined ? { triggeredBy: request.triggeredBy } : {}),
        ...(context.requestId !== undefined ? { requestId: context.requestId } : {}),
        tenant,
        keyId,
        key: record,
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
    return failure('CONFLICT', `key ${keyId} changed concurrently; retry`, { keyId });
  }
}

function decodeKey(data: Uint8Array): KeyEvent | null {
  const value = decodeJson(data);
  return keyEvent.check(value) ? value : null;
}

function reply(record: ApiKeyRecord, version: number, duplicate: boolean): CommandReply {
  const { hash: _hash, ...key } = record;
  return { ok: true, kind: 'apiKey', key, version, duplicate };
}
