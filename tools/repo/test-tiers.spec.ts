import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const scripts = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  }
).scripts;
const specs = execFileSync('git', ['ls-files', '*.spec.ts'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file !== '');

/** The regular expression a tier's script passes to jest with `option` (`--option='…'`). */
function patternOf(script: string, option: string): RegExp {
  const match = new RegExp(`--${option}='([^']+)'`).exec(scripts[script] ?? '');
  if (!match) throw new Error(`npm run ${script} has no --${option}`);
  return new RegExp(match[1]!);
}

const unitExcludes = patternOf('test:unit', 'testPathIgnorePatterns');
const tiers: Record<string, (file: string) => boolean> = {
  unit: (file) => !unitExcludes.test(file),
  int: (file) => patternOf('test:int', 'testPathPatterns').test(file),
  e2e: (file) => patternOf('test:e2e', 'testPathPatterns').test(file),
};

describe('test tiers (npm run test:unit, test:int, test:e2e)', () => {
  it('run every project, as npm test does', () => {
    for (const script of ['test:unit', 'test:int', 'test:e2e']) {
      expect(scripts[script]).toMatch(/^nx run-many -t test .*-- --passWithNoTests /);
    }
  });

  it('put every spec in exactly one tier, by its name', () => {
    expect(specs.length).toBeGreaterThan(50);
    for (const file of specs) {
      const of = Object.keys(tiers).filter((tier) => tiers[tier]!(file));
      expect({ file, tiers: of }).toEqual({ file, tiers: [expect.any(String)] });
    }
    expect(tiers.int!('libs/nats/src/infrastructure.cluster.int.spec.ts')).toBe(true);
    expect(tiers.e2e!('apps/query-gateway/src/e2e/cluster.e2e.spec.ts')).toBe(true);
    expect(tiers.unit!('apps/query-gateway/src/openapi.spec.ts')).toBe(true);
  });

  it('keep NATS servers and service processes out of the unit tier', () => {
    const natsOrProcesses =
      /\bstart(TestNats|TestCluster|BinaryNats|E2eStack|Service|ServiceStack|CommandService|ProjectionWorker|Gateway)\b/;
    const offenders = specs
      .filter((file) => tiers.unit!(file))
      .filter((file) => natsOrProcesses.test(readFileSync(join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
