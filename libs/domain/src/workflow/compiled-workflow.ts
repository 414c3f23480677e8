import {
  type DefinitionAnalysis,
  type GuardFailure,
  type JsonObject,
  type TransitionDefinition,
  type WorkflowDefinition,
} from '@cb/schemas';
import { analyzeDefinition } from '../definitions';
import { DomainError, validationError } from '../errors';
import { compileGuards } from '../guards';

/** A definition version ready for deciding: lookups indexed, guards compiled once. */
export interface CompiledWorkflow {
  readonly definition: WorkflowDefinition;
  readonly analysis: DefinitionAnalysis;
  transition(id: string): TransitionDefinition | undefined;
  isFinal(place: string): boolean;
  hasPlace(place: string): boolean;
  /**
   * Every failure of the transition's guard against `{ data, metadata }`; `[]` when it passes or
   * the transition has no guard. Throws TRANSITION_NOT_ENABLED for an unknown transition id:
   * "no such transition" must never read as "guard passed".
   */
  checkGuard(
    transitionId: string,
    input: { data: JsonObject; metadata: JsonObject },
  ): GuardFailure[];
}

/**
 * Compile a stored (already validated) definition. Cache the result per workflow id and version:
 * definitions are immutable, and compiling guards is the expensive part.
 * Throws DomainError VALIDATION_ERROR if a guard does not compile.
 */
export function compileWorkflow(definition: WorkflowDefinition): CompiledWorkflow {
  const { checks, errors } = compileGuards(definition.transitions);
  if (errors.length > 0) {
    throw validationError(
      `workflow "${definition.id}" v${definition.version} has guards that do not compile`,
      errors,
    );
  }
  const transitions = new Map(definition.transitions.map((t) => [t.id, t]));
  const places = new Set(definition.places);
  const finals = new Set(definition.finalPlaces ?? []);

  return Object.freeze({
    definition,
    analysis: analyzeDefinition(definition),
    transition: (id: string) => transitions.get(id),
    isFinal: (place: string) => finals.has(place),
    hasPlace: (place: string) => places.has(place),
    checkGuard(transitionId: string, input: { data: JsonObject; metadata: JsonObject }) {
      if (!transitions.has(transitionId)) {
        throw new DomainError(
          'TRANSITION_NOT_ENABLED',
          `workflow "${definition.id}" has no transition "${transitionId}"`,
          { transition: transitionId },
        );
      }
      const check = checks.get(transitionId);
      return check === undefined ? [] : check({ data: input.data, metadata: input.metadata });
    },
  });
}
