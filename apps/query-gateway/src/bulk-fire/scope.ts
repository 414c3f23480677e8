import type { WorkflowResource } from '@cb/schemas';
import { ApiError } from '../api-error';
import type { Reads } from '../read/reads';

/** Definition versions (newest first) whose transitions and places are considered. */
export const MAX_VERSIONS = 64;

/** Definition versions, the newest first (there is always one). */
export type DefinitionVersions = readonly [WorkflowResource, ...WorkflowResource[]];

/** Which tokens a bulk fire looks at. */
export interface Scope {
  /** Places whose tokens are fired. */
  places: Set<string>;
  /** Places the transition leads to (in any considered version). */
  targets: string[];
}

/**
 * The newest `MAX_VERSIONS` definition versions of a workflow, newest first (404
 * WORKFLOW_NOT_FOUND when it has none; a version that cannot be found is left out).
 */
export async function definitionVersions(
  reads: Reads,
  tenant: string,
  workflowId: string,
): Promise<DefinitionVersions> {
  const latest = await reads.workflow(tenant, workflowId);
  const older: Array<Promise<WorkflowResource | null>> = [];
  for (let v = latest.version - 1; v >= 1 && v > latest.version - MAX_VERSIONS; v--) {
    older.push(
      reads.workflow(tenant, workflowId, v).catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'WORKFLOW_NOT_FOUND') return null;
        throw err;
      }),
    );
  }
  return [latest, ...(await Promise.all(older)).filter((w) => w !== null)];
}

/**
 * Validate the transition and place against the definition versions (`versions`, the newest
 * first): tokens fire against the version they are pinned to, so a transition or `from` place of
 * any of them counts. Pure: the answer, or the ApiError the request fails with before firing.
 */
export function resolveScope(
  workflowId: string,
  versions: DefinitionVersions,
  transition: string,
  place: string | undefined,
): Scope {
  const latest = versions[0];
  const declared = new Set<string>();
  const from = new Set<string>();
  const targets = new Set<string>();
  for (const definition of versions) {
    for (const p of definition.places) declared.add(p);
    for (const t of definition.transitions) {
      if (t.id !== transition) continue;
      for (const p of t.from) from.add(p);
      targets.add(t.to);
    }
  }
  if (place !== undefined && !declared.has(place)) {
    throw new ApiError(
      'VALIDATION_ERROR',
      `place ${place} is not declared by workflow ${workflowId} (places: ${latest.places.join(', ')})`,
      { errors: [{ path: 'body/place', message: 'is not a place of the workflow' }] },
    );
  }
  if (from.size === 0) {
    throw new ApiError(
      'TRANSITION_NOT_ENABLED',
      `workflow ${workflowId} has no transition ${transition}; nothing was fired`,
      { transition, transitions: latest.transitions.map((t) => t.id) },
    );
  }
  if (place !== undefined && !from.has(place)) {
    throw new ApiError(
      'TRANSITION_NOT_ENABLED',
      `transition ${transition} cannot fire from ${place} (it fires from ${[...from].sort().join(', ')}); nothing was fired`,
      { transition, place, from: [...from].sort() },
    );
  }
  return {
    places: place !== undefined ? new Set([place]) : from,
    targets: [...targets].sort(),
  };
}
