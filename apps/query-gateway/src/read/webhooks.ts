import type { NatsConnection } from '@nats-io/transport-node';
import {
  LeanKv,
  decodeJson,
  kvOperation,
  scanStream,
  type DeliveredMessage,
  type RequestMux,
} from '@cb/nats';
import {
  WebhookDelivery,
  WebhookEntry,
  WebhookStatus,
  compileValidator,
  type Webhook,
  type WebhookStatusSummary,
} from '@cb/schemas';
import { kvStreamName, kvSubject, type Naming } from '@cb/subjects';

const validEntry = compileValidator(WebhookEntry);
const validStatus = compileValidator(WebhookStatus);
const validDelivery = compileValidator(WebhookDelivery);

/**
 * The most delivery attempts one request reads: the deliveries stream keeps 200 per webhook, so
 * this is all of them, and a request never reads more whatever the stream holds.
 */
export const MAX_DELIVERY_SCAN = 200;

/** A delivery attempt and where it is on the deliveries stream (the page cursor). */
export interface StoredDelivery {
  streamSeq: number;
  delivery: WebhookDelivery;
}

export interface WebhookReadsOptions {
  /** Bound on one scan (SCAN_TIMEOUT_MS). */
  scanTimeoutMs: number;
}

/**
 * What the gateway reads of webhooks: the registrations the webhooks projection writes (one key
 * per webhook, tombstones included), the status the automation writes, and the attempts the
 * automation logs on the deliveries stream. Values that do not match their schema read as absent.
 */
export class WebhookReads {
  private readonly webhooks: LeanKv;
  private readonly status: LeanKv;

  constructor(
    private readonly nc: NatsConnection,
    private readonly mux: RequestMux,
    private readonly naming: Naming,
    private readonly options: WebhookReadsOptions,
  ) {
    this.webhooks = new LeanKv(mux, naming.webhooksBucket);
    this.status = new LeanKv(mux, naming.webhookStatusBucket);
  }

  /** A webhook of the tenant (deleted ones too, with `deletedAt`), or null. */
  async get(tenant: string, id: string): Promise<WebhookEntry | null> {
    const e = await this.webhooks.get(this.naming.webhookKey(tenant, id));
    const entry = e?.operation === 'PUT' ? e.json<unknown>() : undefined;
    return validEntry.check(entry) && entry.id === id && entry.tenant === tenant ? entry : null;
  }

  /** Every webhook of the tenant (deleted ones too), by id: one scan of its key range. */
  async list(tenant: string): Promise<WebhookEntry[]> {
    const { messages } = await scanStream(
      this.nc,
      this.mux,
      kvStreamName(this.naming.webhooksBucket),
      kvSubject(this.naming.webhooksBucket, this.naming.webhooksKeyFilter(tenant)),
      { start: { deliver: 'last_per_subject' }, timeoutMs: this.options.scanTimeoutMs },
    );
    const entries = messages
      .filter((m) => kvOperation(m.headers) === 'PUT')
      .map((m) => decodeJson(m.data))
      .filter((v): v is WebhookEntry => validEntry.check(v) && v.tenant === tenant);
    return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The webhook's delivery status as the API shows it (none yet: active, zeros). */
  async statusOf(tenant: string, id: string): Promise<WebhookStatusSummary> {
    const e = await this.status.get(this.naming.webhookKey(tenant, id));
    const value = e?.operation === 'PUT' ? e.json<unknown>() : undefined;
    if (!validStatus.check(value)) {
      return { state: 'active', consecutiveFailures: 0, delivered: 0, deadLettered: 0 };
    }
    const { lastDeliveredSeq: _seq, pending: _pending, ...summary } = value;
    return summary;
  }

  /** The webhook's recorded attempts (the last MAX_DELIVERY_SCAN at most), oldest first. */
  async deliveries(tenant: string, id: string): Promise<StoredDelivery[]> {
    const { messages } = await scanStream(
      this.nc,
      this.mux,
      this.naming.webhookDeliveriesStream,
      this.naming.webhookDeliverySubject(tenant, id),
      {
        start: { deliver: 'all' },
        maxMessages: MAX_DELIVERY_SCAN,
        timeoutMs: this.options.scanTimeoutMs,
      },
    );
    return messages.flatMap((m: DeliveredMessage) => {
      const delivery = decodeJson(m.data);
      return validDelivery.check(delivery) && delivery.webhookId === id
        ? [{ streamSeq: m.seq, delivery }]
        : [];
    });
  }
}

/** A registration as the API shows it: never its secret. */
export function toWebhook(entry: WebhookEntry, status: WebhookStatusSummary): Webhook {
  const { secret: _secret, seq: _seq, deletedAt: _deletedAt, ...webhook } = entry;
  return { ...webhook, status };
}
