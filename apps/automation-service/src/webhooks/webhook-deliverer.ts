import type {
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { LeaseHandle } from '@cb/leases';
import type { Logger } from '@cb/logging';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { decodeEvent, encodeJson, isTokenEvent } from '@cb/nats';
import {
  compileValidator,
  WebhookStatus,
  type WebhookDelivery,
  type WebhookEntry,
  type WebhookEventType,
} from '@cb/schemas';
import type { Naming } from '@cb/subjects';
import type { AutomationMetrics } from '../metrics';
import { exhausted, retryDelayMs, type RetryPolicy } from './retry-policy';
import { sendWebhook } from './sender';
import { signDelivery } from './signer';
import {
  alreadyDone,
  initialStatus,
  nextAttempt,
  recordAttempt,
  type AttemptOutcome,
} from './webhook-status';
import { ensureWebhookConsumer } from './webhook-consumer';

export interface DeliverySettings {
  retry: RetryPolicy;
  failingAfter: number;
  timeoutMs: number;
  allowPrivate: boolean;
  /** The webhook consumers' ack wait: a killed worker's event is redelivered this much later. */
  ackWaitMs: number;
}

export interface WebhookDelivererDeps {
  js: JetStreamClient;
  jsm: JetStreamManager;
  naming: Naming;
  /** The webhook status bucket. */
  statusKv: KV;
  lease: LeaseHandle;
  metrics: AutomationMetrics;
  logger: Logger;
  settings: DeliverySettings;
}

const checkStatus = compileValidator(WebhookStatus);

/**
 * Delivers one webhook's events, in stream order, at least once: its durable consumer hands out
 * one event at a time, and an event is acknowledged only once delivered or dead-lettered, so a
 * crash or a takeover resumes at it. A failed attempt is retried in process with the doubling
 * back-off (the event kept with `working()`); each attempt is logged on the deliveries stream and
 * counted in the status bucket, whose `pending` attempt count survives restarts.
 */
export class WebhookDeliverer {
  private status: WebhookStatus = initialStatus();
  private stopping = false;
  private messages: ConsumerMessages | null = null;
  private running: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private readonly key: string;

  constructor(
    readonly hook: WebhookEntry,
    private readonly deps: WebhookDelivererDeps,
  ) {
    this.key = deps.naming.webhookKey(hook.tenant, hook.id);
  }

  get failing(): boolean {
    return this.status.state === 'failing';
  }

  private get active(): boolean {
    return !this.stopping && this.deps.lease.valid();
  }

  start(): void {
    this.running = this.run();
  }

  /** Stop after the attempt in flight; the event in hand is handed back (nak) unacknowledged. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.messages?.close().catch(() => undefined);
    await this.running;
  }

  private async run(): Promise<void> {
    const { deps, hook } = this;
    for (let attempt = 0; this.active; attempt++) {
      try {
        const name = await ensureWebhookConsumer(
          deps.jsm,
          deps.naming,
          hook,
          deps.settings.ackWaitMs,
        );
        await this.loadStatus();
        const consumer = await deps.js.consumers.get(deps.naming.stream, name);
        const messages = await consumer.consume({ max_messages: 1, expires: 30_000 });
        this.messages = messages;
        if (!this.active) break;
        for await (const m of messages) {
          if (!(await this.handle(m))) break;
          attempt = 0;
        }
      } catch (err) {
        if (!this.active) break;
        deps.logger.warn({ err, webhookId: hook.id }, 'webhook consumer failed; retrying');
        await this.sleep(Math.min(5000, 250 * 2 ** attempt));
      } finally {
        await this.messages?.close().catch(() => undefined);
        this.messages = null;
      }
    }
  }

  private async loadStatus(): Promise<void> {
    const entry = await this.deps.statusKv.get(this.key);
    const value = entry?.operation === 'PUT' ? entry.json<unknown>() : undefined;
    this.status = value !== undefined && checkStatus.check(value) ? value : initialStatus();
  }

  /** Deliver one event until done (true: acknowledged) or the webhook stops (false). */
  private async handle(m: JsMsg): Promise<boolean> {
    const { hook, deps } = this;
    const decoded = decodeEvent(m.data);
    if (!decoded.ok || !isTokenEvent(decoded.event)) {
      deps.logger.warn({ seq: m.seq, webhookId: hook.id }, 'not a token event; not delivered');
      m.ack();
      return true;
    }
    const event = decoded.event;
    const type = event.type as WebhookEventType;
    if ((hook.events && !hook.events.includes(type)) || alreadyDone(this.status, m.seq)) {
      m.ack();
      return true;
    }
    // Keep the event while attempts and back-off take longer than the ack wait.
    const keep = setInterval(
      () => {
        if (this.active) m.working();
      },
      Math.max(100, Math.floor(deps.settings.ackWaitMs / 3)),
    );
    try {
      for (let attempt = nextAttempt(this.status, m.seq); ; attempt++) {
        if (!this.active) {
          if (this.stopping) m.nak();
          return false;
        }
        const outcome = await this.attempt(m.seq, event.eventId, type, event, attempt);
        if (outcome === 'dead-lettered' && !(await this.deadLetter(m, attempt))) return false;
        if (outcome === 'delivered' || outcome === 'dead-lettered') {
          if (!this.active) return false;
          await m.ackAck().catch(() => m.ack());
          return true;
        }
        await this.sleep(retryDelayMs(attempt, deps.settings.retry));
      }
    } finally {
      clearInterval(keep);
    }
  }

  private async attempt(
    seq: number,
    eventId: string,
    eventType: WebhookEventType,
    event: unknown,
    attempt: number,
  ): Promise<AttemptOutcome> {
    const { hook, deps } = this;
    const { settings, metrics } = deps;
    const at = new Date();
    const signed = signDelivery(hook.secret, { eventId, seq, event, at });
    const result = await sendWebhook(hook.url, signed, {
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivate,
    });
    const outcome: AttemptOutcome =
      result.outcome === 'delivered'
        ? 'delivered'
        : exhausted(attempt, settings.retry)
          ? 'dead-lettered'
          : result.outcome;
    metrics.deliveries.inc({ outcome });
    metrics.deliveryLatency.observe({ outcome }, result.durationMs / 1000);
    const error = result.outcome === 'delivered' ? undefined : result.error;
    const delivery: WebhookDelivery = {
      webhookId: hook.id,
      eventId,
      seq,
      eventType,
      attempt,
      at: at.toISOString(),
      outcome,
      ...('status' in result &&
      result.status !== undefined &&
      result.status >= 100 &&
      result.status <= 599
        ? { status: result.status }
        : {}),
      ...(error !== undefined ? { error } : {}),
      durationMs: result.durationMs,
    };
    const wasFailing = this.status.state === 'failing';
    this.status = recordAttempt(
      this.status,
      {
        seq,
        eventId,
        attempt,
        outcome,
        at: delivery.at,
        ...(error !== undefined ? { error } : {}),
      },
      settings.failingAfter,
    );
    const log = { webhookId: hook.id, tenant: hook.tenant, seq, attempt, outcome, error };
    if (outcome === 'dead-lettered') deps.logger.warn(log, 'webhook event dead-lettered');
    if (!wasFailing && this.status.state === 'failing') {
      deps.logger.warn(
        { ...log, consecutiveFailures: this.status.consecutiveFailures },
        'webhook is failing',
      );
    } else if (wasFailing && this.status.state === 'active') {
      deps.logger.info({ webhookId: hook.id, tenant: hook.tenant }, 'webhook recovered');
    }
    await Promise.all([this.logDelivery(delivery), this.saveStatus()]);
    return outcome;
  }

  /**
   * The event given up on, copied to the dead-letter stream (`<prefix>.dlq.whk.<tenant>.<hookId>`,
   * kept until an operator deals with it) before it is acknowledged: the deliveries log keeps
   * only recent attempts, the dead letter keeps the event. Tried until stored or the webhook
   * stops (false: not acknowledged, so the next owner dead-letters it again — same message id).
   */
  private async deadLetter(m: JsMsg, attempts: number): Promise<boolean> {
    const { naming, js, logger } = this.deps;
    const { hook } = this;
    for (let retry = 0; this.active; retry++) {
      try {
        await js.publish(naming.webhookDeadLetterSubject(hook.tenant, hook.id), m.data, {
          msgID: `dlq-whk-${hook.id}-${m.seq}`,
          headers: deadLetterHeaders({
            'Cb-Dlq-Kind': 'webhook',
            'Cb-Dlq-Webhook': hook.id,
            'Cb-Dlq-Stream': naming.stream,
            'Cb-Dlq-Seq': String(m.seq),
            'Cb-Dlq-Subject': m.subject,
            'Cb-Dlq-Attempts': String(attempts),
            'Cb-Dlq-Reason': (this.status.lastError ?? 'failed').slice(0, 300),
          }),
        });
        return true;
      } catch (err) {
        logger.warn({ err, webhookId: hook.id, seq: m.seq }, 'dead letter not stored; retrying');
        await this.sleep(Math.min(5000, 250 * 2 ** retry));
      }
    }
    return false;
  }

  /** The attempt on the deliveries stream (a log: a failure to write it does not stop delivery). */
  private async logDelivery(d: WebhookDelivery): Promise<void> {
    const { naming, js, logger } = this.deps;
    try {
      await js.publish(
        naming.webhookDeliverySubject(this.hook.tenant, d.webhookId),
        encodeJson(d),
        {
          msgID: `${d.webhookId}.${d.seq}.${d.attempt}`,
        },
      );
    } catch (err) {
      logger.warn({ err, webhookId: d.webhookId, seq: d.seq }, 'delivery attempt not logged');
    }
  }

  private async saveStatus(): Promise<void> {
    try {
      await this.deps.statusKv.put(this.key, encodeJson(this.status));
    } catch (err) {
      this.deps.logger.warn({ err, webhookId: this.hook.id }, 'webhook status not written');
    }
  }

  /** Wait `ms`, or until stop(). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

function deadLetterHeaders(values: Record<string, string>): ReturnType<typeof natsHeaders> {
  const h = natsHeaders();
  for (const [k, v] of Object.entries(values)) h.set(k, v);
  return h;
}
