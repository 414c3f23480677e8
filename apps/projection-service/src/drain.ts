import type { ConsumerMessages } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';

/** A drain takes a round trip; past this the connection is in trouble and we close anyway. */
const DRAIN_TIMEOUT_MS = 2000;

/**
 * Take every message the server already sent to a consume before it is closed. nats.js's
 * `close()` unsubscribes at once, and what is still in the socket is dropped: measured on a
 * streaming backlog, 600–900 messages each time. Those stay delivered to nobody until their ack
 * wait (or back-off) runs out, and the next owner of the partition stalls on them (a batch waits
 * for an earlier event). Draining the subscription (unsubscribe, then receive what the server
 * sent before it saw that) lost none in the same measurement, so a graceful hand-over gives back
 * what it was sent. Only what the server had dispatched but not yet routed when the unsubscribe
 * arrived still escapes — seen when a consume is closed within milliseconds of starting, in the
 * middle of its first burst.
 * The subscription is not part of the consume's public interface, hence the probe; without it
 * the consume is closed as before.
 */
export async function drainDeliveries(messages: ConsumerMessages): Promise<void> {
  const sub = (messages as Partial<{ sub: Subscription }>).sub;
  if (!sub || typeof sub.drain !== 'function' || sub.isClosed() || sub.isDraining()) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sub.drain().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
}
