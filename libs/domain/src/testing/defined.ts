// Definition events for projection specs (test-only), decided for real.
import { type WorkflowDefined } from '@cb/schemas';
import { decideWorkflow } from '../decider';
import { context, fixture, type FixtureName, stored } from './fixtures';

/** The event defining version `version` of a fixture (over an unchanged previous version). */
export function defined(name: FixtureName, version: number): WorkflowDefined {
  const latest = version === 1 ? null : stored(fixture(name), version - 1);
  const mode = version === 1 ? 'create' : 'version';
  const result = decideWorkflow(
    { type: 'DefineWorkflow', mode, definition: fixture(name) },
    latest,
    context(),
  );
  if (!result.ok) throw result.error;
  return result.value;
}
