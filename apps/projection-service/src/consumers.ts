import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Naming } from '@cb/subjects';

export interface ConsumerSettings {
  ackWaitMs: number;
  maxAttempts: number;
  batchSize: number;
}

export type WorkItem = number | 'definitions';

/** The pull requests' expiry (the server delivers to an open pull until it expires). */
export const PULL_EXPIRES_MS = 1000;

export function consumerName(naming: Naming, generation: number, item: WorkItem): string {
  return item === 'definitions'
    ? naming.definitionsConsumer(generation)
    : naming.partitionConsumer(generation, item);
}

/**
 * The durable, explicit-ack pull consumer of one partition (or of the definitions) for one
 * read-model generation. Redelivery backs off; the server's own `max_deliver` sits above our
 * dead-letter threshold so an event that keeps failing is dead-lettered by us, with a reason,
 * rather than silently dropped by the server.
 */
export async function ensureConsumer(
  jsm: JetStreamManager,
  naming: Naming,
  generation: number,
  item: WorkItem,
  settings: ConsumerSettings,
): Promise<string> {
  const name = consumerName(naming, generation, item);
  const ackWait = settings.ackWaitMs;
  const config: Partial<ConsumerConfig> = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject:
      item === 'definitions' ? naming.allWorkflowsSubject : naming.partitionFilter(item),
    ack_wait: nanos(ackWait),
    // Our own dead-lettering applies PROJECTION_MAX_ATTEMPTS to events that fail; batches that
    // merely wait for an earlier event are handed back without counting against them, so the
    // server's bound only has to stop a runaway loop.
    max_deliver: Math.max(100, settings.maxAttempts * 10),
    backoff: [ackWait, ackWait * 2, ackWait * 4].map((ms) => nanos(ms)),
    max_ack_pending: settings.batchSize * 4,
    inactive_threshold: 0,
  };
  try {
    await jsm.consumers.info(naming.stream, name);
    await jsm.consumers.update(naming.stream, name, {
      ack_wait: config.ack_wait,
      max_deliver: config.max_deliver,
      backoff: config.backoff,
      max_ack_pending: config.max_ack_pending,
    });
  } catch {
    await jsm.consumers.add(naming.stream, config);
  }
  return name;
}
