import type { JsMsg } from '@nats-io/jetstream';
import type { TokenEvent, WorkflowDefined } from '@cb/schemas';

/** A message of a batch, decoded and checked against its subject. */
export interface DecodedTokenEvent {
  msg: JsMsg;
  seq: number;
  event: TokenEvent;
}

export interface DecodedDefinitionEvent {
  msg: JsMsg;
  seq: number;
  event: WorkflowDefined;
}

export interface ApplyResult {
  applied: number;
  skipped: number;
}

/** Applies decoded events of one work item to the read models; throws if a write failed. */
export interface BatchApplier<E> {
  apply(batch: E[]): Promise<ApplyResult>;
  /** Drop cached read-model state (another worker may have written since). */
  reset(): void;
}
