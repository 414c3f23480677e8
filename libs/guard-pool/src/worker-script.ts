import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';

/**
 * Start a guard worker thread. In a bundle (`npm run build`), `guard-worker.js` sits next to the
 * service's `main.js`; from the TypeScript sources (`npm start`, tests) the worker registers tsx
 * itself, so it runs the same way under tsx, jest or plain node.
 */
export function spawnGuardWorker(resourceLimits: ResourceLimits): Worker {
  const bundled = join(__dirname, 'guard-worker.js');
  if (existsSync(bundled)) return new Worker(bundled, { resourceLimits, execArgv: [] });
  const source = join(__dirname, 'guard-worker.ts');
  const tsx = resolveFromSources('tsx/cjs/api');
  const tsconfig = join(__dirname, '..', '..', '..', 'tsconfig.base.json');
  const bootstrap = [
    `require(${JSON.stringify(tsx)}).register();`,
    `require(${JSON.stringify(source)});`,
  ].join('\n');
  return new Worker(bootstrap, {
    eval: true,
    resourceLimits,
    execArgv: [],
    // tsx resolves the `@cb/*` path aliases from this tsconfig, whatever the working directory.
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
}

/** A dev dependency, only ever needed when running from the sources (a bundle never asks). */
function resolveFromSources(specifier: string): string {
  return require.resolve(specifier);
}
