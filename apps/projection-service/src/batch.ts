import type { JsMsg } from '@nats-io/jetstream';
import type { TokenEvent, WorkflowDefined } from '@cb/schemas';

/** A message of a batch, decoded and checked against its subject. */
export interface DecodedTokenEvent {
  msg: JsMsg;
  seq: number;
  /** The tenant, from the subject (what NATS permissions confine), never from the payload. */
  tenant: string;
  event: TokenEvent;
}

export interface DecodedDefinitionEvent {
  msg: JsMsg;
  seq: number;
  /** The tenant, from the subject. */
  tenant: string;
  event: WorkflowDefined;
}

/**
 * A retryable condition that is not the events' fault (an earlier event is still with another
 * worker, or the lease ended): the batch goes back and is retried, never dead-lettered.
 */
export class NotYetError extends Error {
  override name = 'NotYetError';
}

export interface ApplyResult {
  applied: number;
  skipped: number;
}

/** Applies decoded events of one work item to the read models; throws if a write failed. */
export interface BatchContext {
  /**
   * Every message of the batch was a first delivery, with consecutive consumer sequences: no
   * event of the partition lies between two of them in the stream.
   */
  contiguous: boolean;
  /**
   * Contiguous, and its first delivery follows the consumer's ack floor (or the batch before it,
   * which did) directly: every event of the partition before the batch is applied, so nothing
   * needs checking for a gap.
   */
  chained?: boolean;
  /** Highest stream seq of the batch, dead-lettered messages included (for the watermark). */
  lastSeq: number;
}

export interface BatchApplier<E> {
  apply(batch: E[], context: BatchContext): Promise<ApplyResult>;
  /** Drop cached read-model state (another worker may have written since). */
  reset(): void;
}
