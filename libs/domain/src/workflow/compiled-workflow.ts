import {
  type DefinitionAnalysis,
  type TransitionDefinition,
  type WorkflowDefinition,
} from '@cb/schemas';
import { analyzeDefinition } from '../definitions';

/**
 * A definition version ready for deciding: lookups indexed, analysis computed. Guards are not
 * compiled here: their verdicts reach a decision as an input (`DecideContext.guardVerdicts`),
 * evaluated where a time budget can be enforced.
 */
export interface CompiledWorkflow {
  readonly definition: WorkflowDefinition;
  readonly analysis: DefinitionAnalysis;
  transition(id: string): TransitionDefinition | undefined;
  isFinal(place: string): boolean;
  hasPlace(place: string): boolean;
}

/** Index a stored (already validated) definition; cheap, and cacheable per id and version. */
export function compileWorkflow(definition: WorkflowDefinition): CompiledWorkflow {
  const transitions = new Map(definition.transitions.map((t) => [t.id, t]));
  const places = new Set(definition.places);
  const finals = new Set(definition.finalPlaces ?? []);

  return Object.freeze({
    definition,
    analysis: analyzeDefinition(definition),
    transition: (id: string) => transitions.get(id),
    isFinal: (place: string) => finals.has(place),
    hasPlace: (place: string) => places.has(place),
  });
}
