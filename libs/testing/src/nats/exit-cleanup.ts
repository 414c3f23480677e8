import { hostProcess, processSingleton } from './host-process';

type Cleanup = () => void;

/**
 * Run `cleanup` synchronously when the process exits (whatever the Jest worker is doing).
 * Returns the function that unregisters it. One 'exit' listener serves the whole process.
 */
export function onProcessExit(cleanup: Cleanup): () => void {
  const cleanups = processSingleton('exit-cleanups', () => {
    const set = new Set<Cleanup>();
    hostProcess().on('exit', () => {
      for (const run of set) {
        try {
          run();
        } catch {
          // Exiting anyway: one failed cleanup must not stop the others.
        }
      }
    });
    return set;
  });
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}
