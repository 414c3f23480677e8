/**
 * `npm run build`: bundles each service with esbuild into dist/apps/<service>/main.js (Node 20,
 * CommonJS, source maps). The `@cb/*` libs are inlined (path aliases from tsconfig.base.json);
 * npm packages stay external, so a production image installs `dependencies` with
 * `npm ci --omit=dev`. The build fails when a bundle needs a package that is not listed in
 * package.json `dependencies`, and reports dependencies that no bundle uses.
 *
 * `node tools/build/build.mjs --check` bundles in memory and only runs that dependency check
 * (docker/compose.spec.ts does, so `npm test` catches a runtime import of a devDependency).
 */
/* global process, console */
import { build } from 'esbuild';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const OUT_DIR = 'dist/apps';

/** Bundle (relative to dist/apps, without .js) → entry point. */
export const ENTRIES = {
  'command-service/main': 'apps/command-service/src/main.ts',
  // Guard worker threads: started from next to the service's main.js (libs/guard-pool).
  'command-service/guard-worker': 'libs/guard-pool/src/guard-worker.ts',
  'projection-service/main': 'apps/projection-service/src/main.ts',
  'projection-service/rebuild-main': 'apps/projection-service/src/rebuild-main.ts',
  'automation-service/main': 'apps/automation-service/src/main.ts',
  'query-gateway/main': 'apps/query-gateway/src/main.ts',
  'query-gateway/guard-worker': 'libs/guard-pool/src/guard-worker.ts',
};

const builtins = new Set(builtinModules);

/** The npm package an import path belongs to, or undefined for Node built-ins. */
function packageOf(path) {
  if (path.startsWith('node:') || builtins.has(path.split('/')[0])) return undefined;
  const parts = path.split('/');
  return path.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

async function main() {
  const started = Date.now();
  const checkOnly = process.argv.includes('--check');
  if (!checkOnly) rmSync(resolve(ROOT, OUT_DIR), { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: Object.entries(ENTRIES).map(([out, entry]) => ({ in: entry, out })),
    outdir: OUT_DIR,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: true,
    packages: 'external',
    tsconfig: 'tsconfig.base.json',
    keepNames: true,
    metafile: true,
    write: !checkOnly,
    logLevel: 'warning',
  });

  const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  const devDependencies = new Set(Object.keys(pkg.devDependencies ?? {}));
  const used = new Set();
  const problems = [];
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    if (!file.endsWith('.js')) continue;
    const packages = new Set(
      output.imports.filter((i) => i.external).map((i) => packageOf(i.path)),
    );
    packages.delete(undefined);
    for (const name of packages) {
      used.add(name);
      if (dependencies.has(name)) continue;
      problems.push(
        devDependencies.has(name)
          ? `${file} needs ${name}, which is a devDependency: move it to dependencies`
          : `${file} needs ${name}, which package.json does not list in dependencies`,
      );
    }
    const size = checkOnly
      ? result.outputFiles.find((f) => f.path === resolve(ROOT, file)).contents.length
      : statSync(resolve(ROOT, file)).size;
    const kib = (size / 1024).toFixed(0);
    console.log(
      `  ${file.padEnd(44)} ${kib.padStart(5)} KiB  externals: ${[...packages].sort().join(', ')}`,
    );
  }
  const unused = [...dependencies].filter((d) => !used.has(d));
  if (unused.length > 0) {
    console.warn(`  note: dependencies no bundle imports: ${unused.join(', ')}`);
  }
  if (problems.length > 0) {
    console.error(`build failed:\n  - ${problems.join('\n  - ')}`);
    process.exit(1);
  }
  const where = relative(process.cwd(), resolve(ROOT, OUT_DIR)) || '.';
  console.log(
    checkOnly
      ? `checked the bundles' dependencies in ${Date.now() - started} ms (nothing written)`
      : `built ${where} in ${Date.now() - started} ms`,
  );
}

main().catch((err) => {
  // esbuild has already printed its diagnostics.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
