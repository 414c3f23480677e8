import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import { classifyNatsError, decodeJson, encodeJson } from '@cb/nats';
import { WebhookEntry, WebhookEvent, compileValidator } from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import { MAX_DELIVER } from './consumers';

const validWebhookEvent = compileValidator(WebhookEvent);
const validEntry = compileValidator(WebhookEntry);
const ACK_WAIT_MS = 30_000;
/** A failed apply is tried again after this long (NATS briefly away). */
const RETRY_MS = 1000;

export interface WebhookProjectionOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  /** The webhooks bucket (`Infrastructure.webhooks`). */
  webhooks: KV;
  logger: Logger;
}

/**
 * Writes the webhooks bucket from the webhook events (`<prefix>.hook.<tenant>.<hookId>`): what
 * gateways list and the automation delivers to. Like the key projection: every worker pulls from
 * one durable consumer in any order (applying is order-free), each event carries the webhook's
 * whole record, and the value is `{ ...record, seq }` with the seq of the creation event (the
 * automation's consumer for it starts after that seq). A creation is written only if there is no
 * record (compare-and-set on revision 0), a deletion always (a tombstone with `deletedAt`), so a
 * late or redelivered creation never revives a deleted webhook.
 */
export class WebhookProjection {
  private messages: ConsumerMessages | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: WebhookProjectionOptions) {}

  async start(): Promise<void> {
    const { jsm, naming } = this.o;
    const name = naming.webhooksConsumer;
    const config = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: naming.allWebhooksSubject,
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
          this.o.naming.webhooksConsumer,
        );
        this.messages = await consumer.consume({ max_messages: 64 });
        if (this.stopped) await this.messages.close();
        for await (const msg of this.messages) await this.handle(msg);
      } catch (err) {
        if (this.stopped) return;
        this.o.logger.warn({ err: classifyNatsError(err) }, 'webhook projection: consuming again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const event = decodeJson(msg.data);
    const address = this.o.naming.parseWebhookSubject(msg.subject);
    if (
      !validWebhookEvent.check(event) ||
      address === null ||
      address.tenant !== event.tenant ||
      address.hookId !== event.webhookId ||
      event.webhook.id !== event.webhookId ||
      event.webhook.tenant !== event.tenant ||
      (event.type === 'webhook.deleted.v1') !== (event.webhook.deletedAt !== undefined)
    ) {
      // Only the command service publishes here; anything else is never applied.
      this.o.logger.error(
        { subject: msg.subject, seq: msg.seq },
        'webhook projection: not a valid webhook event; not applied',
      );
      msg.term();
      return;
    }
    const key = this.o.naming.webhookKey(event.tenant, event.webhookId);
    try {
      const current = await this.current(key);
      if (event.type === 'webhook.deleted.v1') {
        // The creation's seq when known (a deletion seen first keeps its own).
        const entry: WebhookEntry = { ...event.webhook, seq: current?.seq ?? msg.seq };
        await this.o.webhooks.put(key, encodeJson(entry));
      } else if (current === null) {
        const entry: WebhookEntry = { ...event.webhook, seq: msg.seq };
        await this.o.webhooks.create(key, encodeJson(entry)).catch(async (err: unknown) => {
          // Written meanwhile (by another worker, or deleted already): either way, leave it.
          if ((await this.current(key)) === null) throw err;
        });
      }
      msg.ack();
    } catch (err) {
      this.o.logger.warn(
        { err: classifyNatsError(err), seq: msg.seq },
        'webhook projection: apply failed; retrying',
      );
      msg.nak(RETRY_MS);
    }
  }

  private async current(key: string): Promise<WebhookEntry | null> {
    const entry = await this.o.webhooks.get(key);
    if (entry === null || entry.operation !== 'PUT') return null;
    const value = decodeJson(entry.value);
    return validEntry.check(value) ? value : null;
  }
}
