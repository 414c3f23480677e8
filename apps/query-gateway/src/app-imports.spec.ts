import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * app.ts installs every plugin, so a plugin that imported app.ts (if only for the `App` type,
 * which lives in app-type.ts) would close an import circle. Only the entry points import it.
 */
const SRC = __dirname;
const MAY_IMPORT_APP = new Set(['main.ts', 'testing/app-without-nats.ts']);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function importsApp(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/from '(\.{1,2}\/[^']*)'/g)].some(
    ([, spec]) => resolve(dirname(file), spec!) === join(SRC, 'app'),
  );
}

describe('the gateway imports app.ts only from its entry points', () => {
  const files = sources(SRC).map((f) => relative(SRC, f).split('\\').join('/'));

  it('reads the sources', () => {
    expect(files).toEqual(expect.arrayContaining(['app.ts', 'app-type.ts', 'main.ts']));
  });

  it('no plugin, route or read module imports app.ts', () => {
    const importers = files.filter((f) => importsApp(join(SRC, f)));
    expect(importers.filter((f) => !MAY_IMPORT_APP.has(f))).toEqual([]);
    expect(importers).toContain('main.ts');
  });
});
