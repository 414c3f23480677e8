import { runInThisContext } from 'node:vm';

/**
 * The real Node `process`. Jest hands each test file a copy whose EventEmitter state is its own,
 * so an 'exit' listener on the copy never fires and per-process caches on it are per file.
 */
export function hostProcess(): NodeJS.Process {
  try {
    const real: unknown = runInThisContext('process');
    if (typeof real === 'object' && real !== null && 'pid' in real) return real as NodeJS.Process;
  } catch {
    // Not reachable in this runtime: the visible process is the best we have.
  }
  return process;
}

/** A value shared by every copy of this module in the process (Jest loads one per test file). */
export function processSingleton<T>(key: string, create: () => T): T {
  const host = hostProcess() as unknown as Record<symbol, T | undefined>;
  const symbol = Symbol.for(`@cb/testing:${key}`);
  const existing = host[symbol];
  if (existing !== undefined) return existing;
  const created = create();
  host[symbol] = created;
  return created;
}
