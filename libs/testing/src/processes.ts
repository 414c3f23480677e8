import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** Whether a process with this pid exists (signal 0 probes; EPERM: it exists, not ours). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Run a TypeScript snippet in a child Node process (`argv[1]` = `mode`); `started` resolves with
 * the JSON of the first line it prints, `exited` when it exits. For tests that kill the child.
 */
export function startScriptChild<T>(
  script: string,
  mode: string,
): { child: ChildProcessWithoutNullStreams; started: Promise<T>; exited: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as unknown as ChildProcessWithoutNullStreams;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = new Promise<T>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out) as T);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.once('exit', (code) =>
      reject(new Error(`child exited (${code}) before starting: ${err}`)),
    );
  });
  return { child, started, exited };
}
