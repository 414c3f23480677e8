import { AckPolicy, DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Naming } from '@cb/subjects';

/**
 * The durable, explicit-ack consumer of one partition's token events for the timers. It allows
 * one unacknowledged event at a time: events reach the timers in stream order even across a
 * takeover (a dead worker's last event is redelivered before anything newer), which the
 * per-token plan needs (an update is planned on the event that brought the token into its
 * place). It starts at the stream's first event, so tokens from before the service have timers.
 */
export async function ensureTimerConsumer(
  jsm: JetStreamManager,
  naming: Naming,
  partition: number,
  ackWaitMs: number,
): Promise<string> {
  const name = naming.automationConsumer(partition);
  try {
    await jsm.consumers.info(naming.stream, name);
    await jsm.consumers.update(naming.stream, name, { ack_wait: nanos(ackWaitMs) });
  } catch {
    await jsm.consumers.add(naming.stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: naming.partitionFilter(partition),
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 1,
      inactive_threshold: 0,
    });
  }
  return name;
}
