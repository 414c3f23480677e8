import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { KeyStore } from '@cb/auth';
import type { Logger } from '@cb/logging';
import { classifyNatsError, decodeJson } from '@cb/nats';
import { KeyEvent, compileValidator } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { KV } from '@nats-io/kv';
import { MAX_DELIVER } from './consumers';

const validKeyEvent = compileValidator(KeyEvent);
const ACK_WAIT_MS = 30_000;
/** A failed apply is tried again after this long (NATS briefly away). */
const RETRY_MS = 1000;

export interface KeyProjectionOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  keys: KV;
  logger: Logger;
}

/**
 * Writes the keys bucket from the API-key events (`<prefix>.key.<tenant>.<keyId>`): the bucket
 * the gateways authenticate against, so a revocation reaches them only through here.
 *
 * Every worker pulls from one durable consumer, in any order: applying is order-free. Each
 * event carries the key's whole record; a creation is written only if the key has no record
 * (compare-and-set on revision 0), a revocation always — and nothing ever writes a key back to
 * live, so a revocation can never be undone by a late or redelivered creation.
 */
export class KeyProjection {
  private messages: ConsumerMessages | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly store: KeyStore;

  constructor(private readonly o: KeyProjectionOptions) {
    this.store = new KeyStore(o.keys, o.naming);
  }

  async start(): Promise<void> {
    const { jsm, naming } = this.o;
    const name = naming.keysConsumer;
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: naming.allApiKeysSubject,
      ack_wait: nanos(ACK_WAIT_MS),
      max_deliver: MAX_DELIVER,
      max_ack_pending: 256,
      inactive_threshold: 0,
    };
    try {
      await jsm.consumers.info(naming.stream, name);
    } catch {
      await jsm.consumers.add(naming.stream, config).catch(async (err: unknown) => {
        // Another worker created it at the same moment.
        await jsm.consumers.info(naming.stream, name).catch(() => {
          throw err;
        });
      });
    }
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.o.js.consumers.get(
          this.o.naming.stream,
          this.o.naming.keysConsumer,
        );
        this.messages = await consumer.consume({ max_messages: 64 });
        if (this.stopped) await this.messages.close();
        for await (const msg of this.messages) await this.handle(msg);
      } catch (err) {
        if (this.stopped) return;
        this.o.logger.warn({ err: classifyNatsError(err) }, 'key projection: consuming again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const event = decodeJson(msg.data);
    const address = this.o.naming.parseApiKeySubject(msg.subject);
    if (
      !validKeyEvent.check(event) ||
      address === null ||
      address.tenant !== event.tenant ||
      address.keyId !== event.keyId ||
      event.key.id !== event.keyId ||
      event.key.tenant !== event.tenant ||
      (event.type === 'apikey.revoked.v1') !== (event.key.revokedAt !== undefined)
    ) {
      // Only the command service publishes here; anything else is never applied.
      this.o.logger.error(
        { subject: msg.subject, seq: msg.seq },
        'key projection: not a valid key event; not applied',
      );
      msg.term();
      return;
    }
    try {
      if (event.type === 'apikey.revoked.v1') {
        await this.store.put(event.key);
      } else if ((await this.store.get(event.keyId)) === null) {
        await this.store.put(event.key, 0).catch(async (err: unknown) => {
          // Written meanwhile (by another worker, or revoked already): either way, leave it.
          if ((await this.store.get(event.keyId)) === null) throw err;
        });
      }
      msg.ack();
    } catch (err) {
      this.o.logger.warn(
        { err: classifyNatsError(err), seq: msg.seq },
        'key projection: apply failed; retrying',
      );
      msg.nak(RETRY_MS);
    }
  }
}
