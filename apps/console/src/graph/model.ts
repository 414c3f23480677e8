import type { WorkflowResource } from '../api';

/**
 * What the graph shows of a definition, before any layout: places with their marks (initial,
 * final, unreachable, dead end from the resource's `analysis`) and transitions with theirs
 * (guarded, timed). A transition with several `from` places is one transition drawn as one edge
 * per source. Pure, so it is tested without a browser.
 */
export interface PlaceNode {
  id: string;
  initial: boolean;
  final: boolean;
  unreachable: boolean;
  deadEnd: boolean;
}

export interface TransitionEdge {
  id: string;
  from: readonly string[];
  to: string;
  guarded: boolean;
  /** `after PT48H` or `at /data/publishAt` when the transition fires by itself. */
  timer: string | undefined;
  description: string | undefined;
}

export interface GraphModel {
  places: PlaceNode[];
  transitions: TransitionEdge[];
}

type Definition = Pick<
  WorkflowResource,
  'places' | 'initialPlace' | 'finalPlaces' | 'transitions' | 'analysis'
>;

/** A guard that can refuse: `true` and `{}` accept everything, so they are not marked. */
export function isGuarded(guard: unknown): boolean {
  if (guard === undefined || guard === true) return false;
  if (guard !== null && typeof guard === 'object' && Object.keys(guard).length === 0) return false;
  return true;
}

export function graphModelOf(def: Definition): GraphModel {
  const finals = new Set(def.finalPlaces ?? []);
  const unreachable = new Set(def.analysis?.unreachablePlaces ?? []);
  const deadEnds = new Set(def.analysis?.deadEndPlaces ?? []);
  const places: PlaceNode[] = def.places.map((id) => ({
    id,
    initial: id === def.initialPlace,
    final: finals.has(id),
    unreachable: unreachable.has(id),
    deadEnd: deadEnds.has(id),
  }));
  const transitions: TransitionEdge[] = def.transitions.map((t) => ({
    id: t.id,
    from: [...new Set(t.from)],
    to: t.to,
    guarded: isGuarded(t.guard),
    timer:
      t.after !== undefined ? `after ${t.after}` : t.at !== undefined ? `at ${t.at}` : undefined,
    description: t.description,
  }));
  return { places, transitions };
}
