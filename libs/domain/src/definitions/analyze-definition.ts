import { type DefinitionAnalysis, type TransitionDefinition } from '@cb/schemas';

/** The parts of a definition its structure depends on. */
export interface DefinitionGraph {
  places: string[];
  initialPlace: string;
  finalPlaces?: string[];
  transitions: TransitionDefinition[];
}

/**
 * Structural warnings, each list in place-declaration order:
 * - unreachable: no path of transitions leads there from the initial place (a transition with
 *   several sources can fire as soon as any one of them is reachable);
 * - dead ends: no transition leads from the place to another place, yet it is not final, so
 *   tokens there are stuck (a self-loop is not a way out).
 */
export function analyzeDefinition(def: DefinitionGraph): DefinitionAnalysis {
  const targets = new Map<string, string[]>();
  for (const t of def.transitions) {
    for (const from of t.from) targets.set(from, [...(targets.get(from) ?? []), t.to]);
  }

  const reached = new Set([def.initialPlace]);
  const queue = [def.initialPlace];
  for (let place = queue.shift(); place !== undefined; place = queue.shift()) {
    for (const to of targets.get(place) ?? []) {
      if (!reached.has(to)) {
        reached.add(to);
        queue.push(to);
      }
    }
  }

  const finals = new Set(def.finalPlaces ?? []);
  return {
    unreachablePlaces: def.places.filter((p) => !reached.has(p)),
    deadEndPlaces: def.places.filter(
      (p) => !finals.has(p) && !(targets.get(p) ?? []).some((to) => to !== p),
    ),
  };
}
