import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type * as Esbuild from 'esbuild';

/**
 * Start a guard worker thread. In a bundle (`npm run build`), `guard-worker.js` sits next to the
 * service's `main.js`. From the TypeScript sources (`npm start`, tests) the worker is bundled
 * once per process with esbuild (a dev dependency, there whenever the sources run), everything
 * included, and each worker starts from that code: ~90 ms, where loading the sources through a
 * TypeScript loader in every new thread took ~300 ms of CPU.
 */
export function spawnGuardWorker(resourceLimits: ResourceLimits): Worker {
  const options = { resourceLimits, execArgv: [] };
  const bundled = join(__dirname, 'guard-worker.js');
  if (existsSync(bundled)) return new Worker(bundled, options);
  return new Worker(sourceBundle(), { ...options, eval: true });
}

let bundle: string | undefined;

function sourceBundle(): string {
  if (bundle !== undefined) return bundle;
  const esbuild = fromSources('esbuild') as typeof Esbuild;
  const result = esbuild.buildSync({
    entryPoints: [join(__dirname, 'guard-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    // The `@cb/*` path aliases.
    tsconfig: join(__dirname, '..', '..', '..', 'tsconfig.base.json'),
    logLevel: 'silent',
  });
  bundle = result.outputFiles[0]!.text;
  return bundle;
}

/** A dev dependency, only ever needed when running from the sources (a bundle never asks). */
function fromSources(specifier: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time, on purpose
  return require(specifier);
}
