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
  batchSize: number;
}

export type WorkItem = number | 'definitions';

/** The pull requests' expiry (the server delivers to an open pull until it expires). */
export const PULL_EXPIRES_MS = 1000;

/** The subjects a work item's consumer reads: a partition's token events, or the definitions. */
export function itemFilter(naming: Naming, item: WorkItem): string {
  return item === 'definitions' ? naming.allWorkflowsSubject : naming.partitionFilter(item);
}

export function consumerName(naming: Naming, generation: number, item: WorkItem): string {
  return item === 'definitions'
    ? naming.definitionsConsumer(generation)
    : naming.partitionConsumer(generation, item);
}

/**
 * Redeliveries the server makes before it gives a message up. An outage is retried for as long
 * as it lasts and every redelivery during it counts, so the server must never give up: our own
 * dead-lettering decides (with a reason, for deterministic failures only). nats-server 2.9
 * refuses the unlimited -1 beside a backoff list, hence the largest int32.
 */
export const MAX_DELIVER = 2_147_483_647;

/**
 * Redelivery delays, as multiples of the ack wait, by delivery (the last for every later one).
 * They matter only for messages nobody holds — a running partition keeps its held messages from
 * redelivery — i.e. those of a worker that died or stopped consuming: a short list keeps a
 * crash-looping worker from spinning, and its longest step bounds how long after a kill its
 * events are up for redelivery, which the takeover must not wait for (`maxAckWaitMs`).
 */
export const BACKOFF_FACTORS = [1, 2] as const;

/**
 * The durable, explicit-ack pull consumer of one partition (or of the definitions) for one
 * read-model generation. Redelivery backs off; the server never drops a message on its own.
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
    filter_subject: itemFilter(naming, item),
    ack_wait: nanos(ackWait),
    max_deliver: MAX_DELIVER,
    backoff: BACKOFF_FACTORS.map((factor) => nanos(ackWait * factor)),
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
