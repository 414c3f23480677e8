// Token histories for projection specs (test-only): real decided events with stream seqs.
import { type JsonObject, type TokenCommand, type TokenEvent } from '@cb/schemas';
import { type StoredTokenEvent } from '../projections';
import { type CompiledWorkflow } from '../workflow';
import { at } from './fixtures';
import { given } from './given';

export interface Step {
  /** Stream seq of the event (default: previous + 1). */
  seq?: number;
  /** Milliseconds after T0 (default: previous + 1 minute). */
  ms?: number;
}

/** One token's life, decided step by step; every method returns the stored event it made. */
export function tokenLife(workflow: CompiledWorkflow, tokenId = 't1') {
  const workflowId = workflow.definition.id;
  const history: TokenEvent[] = [];
  const events: StoredTokenEvent[] = [];
  let seq = 0;
  let ms = -60_000;

  function step(command: TokenCommand, options: Step): StoredTokenEvent {
    seq = options.seq ?? seq + 1;
    ms = options.ms ?? ms + 60_000;
    const event = given(workflow, ...history)
      .when(command, { now: at(ms), eventId: `e${seq}` })
      .then();
    history.push(event);
    const stored = { seq, event };
    events.push(stored);
    return stored;
  }

  return {
    events,
    create(fields: { place?: string; data?: JsonObject } = {}, options: Step = {}) {
      return step({ type: 'CreateToken', workflowId, tokenId, ...fields }, options);
    },
    fire(transition: string, options: Step = {}, data?: JsonObject) {
      const patch = data === undefined ? {} : { data };
      return step({ type: 'FireTransition', workflowId, tokenId, transition, ...patch }, options);
    },
    update(data: JsonObject, options: Step = {}) {
      return step({ type: 'UpdateToken', workflowId, tokenId, data }, options);
    },
    remove(options: Step = {}) {
      return step({ type: 'DeleteToken', workflowId, tokenId }, options);
    },
  };
}
