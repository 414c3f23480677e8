import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Every module `npm start` loads from tools/ (relative imports followed) and the packages they name. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, spec] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      if (spec!.startsWith('.')) {
        const target = resolve(dirname(file), spec!);
        visit(existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts'));
      } else {
        packages.add(spec!);
      }
    }
  };
  visit(entry);
  return { files, packages };
}

describe('npm start (tools/stack/start.ts)', () => {
  const { files, packages } = closure(join(__dirname, 'start.ts'));

  it('follows its imports', () => {
    expect(files.size).toBeGreaterThan(5);
    expect(packages).toContain('@cb/ops');
  });

  it('does not load the test library: what it needs to run nats-server is in @cb/ops', () => {
    expect([...packages].filter((p) => p.startsWith('@cb/testing'))).toEqual([]);
  });
});
