import { type WorkflowDefined, type WorkflowResource } from '@cb/schemas';

/**
 * The `workflows` entries a definition event makes: its version key (`<workflowId>.v<version>`,
 * immutable) and a candidate for the latest key (`<workflowId>`), written only if newer.
 */
export function definitionKeysFor(
  event: WorkflowDefined,
  seq: number,
): { version: WorkflowResource; latestCandidate: WorkflowResource } {
  const resource: WorkflowResource = { ...event.definition, analysis: event.analysis, seq };
  return { version: resource, latestCandidate: { ...resource } };
}

/** Whether `candidate` should replace the latest definition: only a higher version does. */
export function isNewerDefinition(
  current: WorkflowResource | null,
  candidate: WorkflowResource,
): boolean {
  return current === null || candidate.version > current.version;
}
