import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { FIXTURE_WORKFLOWS, FIXTURES_DIR, loadFixtureWorkflow } from './fixtures';

describe('fixtures', () => {
  it('resolves the fixtures dir from the workspace root', () => {
    expect(isAbsolute(FIXTURES_DIR)).toBe(true);
    expect(existsSync(join(FIXTURES_DIR, '..', '..', 'nx.json'))).toBe(true);
  });

  it.each(FIXTURE_WORKFLOWS)('loads %s as a valid definition input', (name) => {
    const workflow = loadFixtureWorkflow(name);
    expect(workflow.id).toBe(name.replace(/-/g, '_'));
    expect(workflow.places).toContain(workflow.initialPlace);
    expect(workflow.transitions.length).toBeGreaterThan(0);
  });
});
