import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { compileValidator, WorkflowDefinitionInput } from '@cb/schemas';

export const FIXTURE_WORKFLOWS = [
  'article-publishing',
  'document-review',
  'order-processing',
  'software-deployment',
] as const;
export type FixtureWorkflowName = (typeof FIXTURE_WORKFLOWS)[number];

/** The workspace root: the nearest ancestor of this file holding `nx.json` (never the cwd). */
function workspaceRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no nx.json above ${__dirname}`);
  }
}

/** Absolute path of `fixtures/workflows` in the workspace. */
export const FIXTURES_DIR: string = join(workspaceRoot(), 'fixtures', 'workflows');

const validator = compileValidator(WorkflowDefinitionInput);

/** A fixture workflow, parsed and checked against the definition input schema. */
export function loadFixtureWorkflow(name: FixtureWorkflowName): WorkflowDefinitionInput {
  const file = join(FIXTURES_DIR, `${name}.json`);
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!validator.check(value)) {
    const issues = validator.errors(value).map((e) => `${e.path}: ${e.message}`);
    throw new Error(`fixture ${file} is not a valid workflow definition: ${issues.join('; ')}`);
  }
  return value;
}
