// Given/when/then for the token decider (test-only): given these events, when this command,
// then this event (checked against the event schema) or this coded error.
import {
  compileValidator,
  type CreateToken,
  type ErrorCode,
  type TokenCreated,
  type TokenCommand,
  TokenEvent,
  type WorkflowDefined,
} from '@cb/schemas';
import {
  type DecideContext,
  decideToken,
  decideTokenInProcess,
  evolveToken,
  type TokenStreamState,
} from '../decider';
import { type DomainError, type Result } from '../errors';
import { type CompiledWorkflow } from '../workflow';
import { context } from './fixtures';

const tokenEvent = compileValidator(TokenEvent);

export interface Outcome<E> {
  /** The decided event; fails the test on an error or a schema-invalid event. */
  then(): E;
  /** The decided error; fails the test unless it has this code. */
  thenError(code: ErrorCode): DomainError;
}

export function outcome<E>(result: Result<E>, schemaErrors: (event: E) => unknown[]): Outcome<E> {
  return {
    then() {
      if (!result.ok) {
        throw new Error(`expected an event, got ${result.error.code}: ${result.error.message}`);
      }
      expect(schemaErrors(result.value)).toEqual([]);
      return result.value;
    },
    thenError(code) {
      if (result.ok) throw new Error(`expected ${code}, got event ${JSON.stringify(result.value)}`);
      expect(result.error.code).toBe(code);
      return result.error;
    },
  };
}

export function given(workflow: CompiledWorkflow | null, ...events: TokenEvent[]) {
  const state = events.reduce<TokenStreamState>(evolveToken, { status: 'absent' });
  return {
    state,
    /** Guards are evaluated in-process unless `ctx.guardVerdicts` supplies their verdicts. */
    when(command: TokenCommand, ctx: Partial<DecideContext> = {}): Outcome<TokenEvent> {
      const decide = ctx.guardVerdicts === undefined ? decideTokenInProcess : decideToken;
      const result = decide(command, state, workflow, context(ctx));
      return outcome(result, (e) => tokenEvent.errors(e));
    },
  };
}

/** Narrow an event to one type, failing the test otherwise. */
export function as<T extends TokenEvent['type'] | WorkflowDefined['type']>(
  type: T,
  event: TokenEvent | WorkflowDefined,
): Extract<TokenEvent | WorkflowDefined, { type: T }> {
  expect(event.type).toBe(type);
  return event as Extract<TokenEvent | WorkflowDefined, { type: T }>;
}

/** A token.created.v1 event, decided for real, to use as a "given". */
export function created(
  workflow: CompiledWorkflow,
  fields: Omit<CreateToken, 'type' | 'workflowId'> = {},
  ctx: Partial<DecideContext> = {},
): TokenCreated {
  const command: CreateToken = {
    type: 'CreateToken',
    workflowId: workflow.definition.id,
    ...fields,
  };
  return as('token.created.v1', given(workflow).when(command, ctx).then());
}
