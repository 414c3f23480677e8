import {
  type DefineWorkflow,
  type TransitionDefinition,
  type WorkflowDefined,
  type WorkflowDefinition,
  type WorkflowDefinitionInput,
} from '@cb/schemas';
import { analyzeDefinition, validateDefinition } from '../definitions';
import { DomainError, fail, ok, type Result } from '../errors';
import { type DecideContext, eventBase } from './context';

/**
 * DefineWorkflow. `create` needs a new id (version 1); `version` needs an existing one and makes
 * `latest.version + 1`. `latest` is the newest stored version of `command.definition.id`.
 * Guards are checked against the definition-time limits here; whether they compile arrives in
 * `ctx.guardErrors` (the command service compiles them in its guard pool, with the same set-up
 * that later evaluates them, so a stored definition always compiles).
 */
export function decideWorkflow(
  command: DefineWorkflow,
  latest: WorkflowDefinition | null,
  ctx: DecideContext,
): Result<WorkflowDefined> {
  const { id } = command.definition;
  if (command.mode === 'create' && latest !== null) {
    return fail(
      new DomainError('WORKFLOW_EXISTS', `workflow "${id}" already exists`, { workflowId: id }),
    );
  }
  if (command.mode === 'version' && latest === null) {
    return fail(
      new DomainError('WORKFLOW_NOT_FOUND', `workflow "${id}" not found`, { workflowId: id }),
    );
  }
  const invalid = validateDefinition(command.definition, ctx.guardErrors);
  if (invalid !== null) return fail(invalid);

  const version = latest === null ? 1 : latest.version + 1;
  const definition = toDefinition(command.definition, version, ctx.now);
  return ok({
    type: 'workflow.defined.v1',
    ...eventBase(ctx),
    workflowId: id,
    definition,
    analysis: analyzeDefinition(definition),
  });
}

/** Copy only the schema's fields, omitting absent optional ones. */
function toDefinition(
  input: WorkflowDefinitionInput,
  version: number,
  createdAt: string,
): WorkflowDefinition {
  return {
    id: input.id,
    version,
    name: input.name,
    ...(input.description !== undefined && { description: input.description }),
    places: [...input.places],
    initialPlace: input.initialPlace,
    ...(input.finalPlaces !== undefined && { finalPlaces: [...input.finalPlaces] }),
    transitions: input.transitions.map(toTransition),
    ...(input.searchAttributes !== undefined && {
      searchAttributes: [...input.searchAttributes],
    }),
    createdAt,
  };
}

function toTransition(t: TransitionDefinition): TransitionDefinition {
  return {
    id: t.id,
    from: [...t.from],
    to: t.to,
    ...(t.guard !== undefined && { guard: t.guard }),
    ...(t.description !== undefined && { description: t.description }),
    ...(t.after !== undefined && { after: t.after }),
    ...(t.at !== undefined && { at: t.at }),
  };
}
