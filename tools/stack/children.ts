import { setTimeout as sleep } from 'node:timers/promises';
import { spawnWatched } from '@cb/ops';

export interface Exit {
  /** Its exit code, or null when a signal killed it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** `performance.now()` when it was spawned. */
  readonly startedAt: number;
  readonly running: boolean;
  /** Settles once it has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** `signal` (default SIGTERM), then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs: number, signal?: NodeJS.Signals): Promise<Exit>;
  /** Signal it; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
}

export type LineSink = (name: string, line: string) => void;

/** What its watchdog does should the launcher die: SIGTERM after that delay, or once none of the file's pids runs. */
export interface OrphanOptions {
  readonly orphanTermDelayMs?: number;
  readonly outliveFile?: string;
}

/**
 * Spawn a child whose output lines go to `sink`, prefixed by its name. It runs in a process group
 * of its own, so a terminal's Ctrl-C (SIGINT to the launcher's group) reaches only the launcher,
 * which stops the children in order; and under the watchdog of `spawnWatched`, so it still dies
 * when the launcher does, even by SIGKILL (SIGTERM, after `orphan` says, then SIGKILL 10 s later).
 */
export async function spawnChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  sink: LineSink,
  orphan: OrphanOptions = {},
): Promise<Child> {
  const startedAt = performance.now();
  const proc = await spawnWatched(command, args, {
    env,
    detached: true,
    termDelayMs: orphan.orphanTermDelayMs ?? 0,
    ...(orphan.outliveFile ? { outliveFile: orphan.outliveFile } : {}),
    outputLimit: 1024,
    onLine: (line) => sink(name, line),
  });
  const exited = proc.exited.then((): Exit => ({ code: proc.exitCode, signal: proc.signal }));
  return {
    name,
    pid: proc.pid,
    startedAt,
    get running() {
      return proc.running;
    },
    exited,
    kill: (signal) => proc.kill(signal),
    async stop(graceMs, signal = 'SIGTERM') {
      proc.kill(signal);
      const timer = new AbortController();
      const done = await Promise.race([
        exited.then(() => true),
        sleep(graceMs, false, { signal: timer.signal }).catch(() => true),
      ]);
      timer.abort();
      if (!done) {
        sink(name, `did not stop within ${graceMs} ms; killing it`);
        proc.kill('SIGKILL');
      }
      return exited;
    },
  };
}

/** `code 0` or `signal SIGKILL`. */
export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
