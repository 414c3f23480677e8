import {
  type TokenEvent,
  type TokenState,
  type Token,
  type WorkflowDefined,
  type WorkflowDefinition,
} from '@cb/schemas';
import { type TokenStreamState } from './token-stream-state';

/** evolve(state, event) → state for a token stream. Events are facts: no checks here. */
export function evolveToken(_state: TokenStreamState, event: TokenEvent): TokenStreamState {
  switch (event.type) {
    case 'token.created.v1':
    case 'token.transitioned.v1':
    case 'token.updated.v1':
      return { status: 'live', token: event.state };
    case 'token.deleted.v1':
      return { status: 'deleted', token: event.state };
    default: {
      const unhandled: never = event;
      throw new Error(`unhandled token event ${JSON.stringify(unhandled)}`);
    }
  }
}

/** A definition stream's state is its newest version. */
export function evolveWorkflow(
  _state: WorkflowDefinition | null,
  event: WorkflowDefined,
): WorkflowDefinition {
  return event.definition;
}

/** The read-model token: the state plus `version`, the stream sequence of its last event. */
export function toToken(state: TokenState, version: number): Token {
  return { ...state, version };
}
