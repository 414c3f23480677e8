import { Webhook } from 'standardwebhooks';

export const USER_AGENT = 'CircuitBreaker-Webhooks/1';

/** What one delivery sends: the body and the Standard Webhooks headers that sign it. */
export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
}

/**
 * The request of one delivery attempt, per Standard Webhooks: `webhook-id` is the event id (the
 * same at every retry, so a receiver can deduplicate), `webhook-timestamp` the attempt's unix
 * seconds and `webhook-signature` `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the
 * webhook's `whsec_` secret. The body is `{ seq, event }`, exactly what the SSE `data:` carries.
 */
export function signDelivery(
  secret: string,
  delivery: { eventId: string; seq: number; event: unknown; at: Date },
): SignedDelivery {
  const body = JSON.stringify({ seq: delivery.seq, event: delivery.event });
  // Standard Webhooks timestamps are whole seconds; the signature covers that same value.
  const at = new Date(Math.floor(delivery.at.getTime() / 1000) * 1000);
  const signature = new Webhook(secret).sign(delivery.eventId, at, body);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(at.getTime() / 1000),
      'webhook-signature': signature,
    },
  };
}
