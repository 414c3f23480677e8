import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { WebhookEntry } from '@cb/schemas';
import type { Naming } from '@cb/subjects';

/**
 * A webhook's durable consumer of its token events on the event stream: from the event after
 * its registration (`seq + 1`), its workflow's or all of its tenant's, one unacknowledged event
 * at a time, so deliveries are in stream order and a takeover resumes at the first event not
 * acknowledged. An existing consumer keeps its position (only its ack wait follows the config).
 */
export async function ensureWebhookConsumer(
  jsm: JetStreamManager,
  naming: Naming,
  hook: WebhookEntry,
  ackWaitMs: number,
): Promise<string> {
  const name = naming.webhookDeliveryConsumer(hook.tenant, hook.id);
  try {
    const info = await jsm.consumers.info(naming.stream, name);
    if (info.config.ack_wait !== nanos(ackWaitMs)) {
      await jsm.consumers.update(naming.stream, name, { ack_wait: nanos(ackWaitMs) });
    }
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.ConsumerNotFound)
      throw err;
    await jsm.consumers.add(naming.stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: hook.seq + 1,
      filter_subject: naming.webhookTokenFilter(hook.tenant, hook.workflowId),
      ack_wait: nanos(ackWaitMs),
      max_ack_pending: 1,
      max_deliver: -1,
      inactive_threshold: 0,
    });
  }
  return name;
}

/** Remove a deleted webhook's consumer (already gone: nothing to do). */
export async function deleteWebhookConsumer(
  jsm: JetStreamManager,
  naming: Naming,
  tenant: string,
  hookId: string,
): Promise<void> {
  try {
    await jsm.consumers.delete(naming.stream, naming.webhookDeliveryConsumer(tenant, hookId));
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return;
    throw err;
  }
}
