import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * `sh -c WATCHDOG cb-watchdog <orphan-dir> <term-delay> <outlive-file> <command> <args…>`, with
 * fd 3 a control pipe.
 *
 * The command runs in the background (stdin /dev/null); its pid is written to fd 3, so it can
 * never be confused with the command's own output. A watcher reads our stdin pipe (kept on fd 4:
 * a background job's stdin is /dev/null): a line means "released, the parent stops the command
 * itself"; end of file means the parent died (even by SIGKILL), so it TERMs the command, KILLs it
 * 10 s later and removes <orphan-dir>. Before the TERM it waits up to <term-delay> tenths of a
 * second while the command runs (and, with an <outlive-file>, while a pid listed there runs). The shell waits for the command and exits with its status
 * (128 + n when signal n killed it), so its own exit tells the parent that the command has exited
 * and been reaped.
 */
const WATCHDOG = [
  'exec 4<&0',
  'dir=$1',
  'delay=$2',
  'after=$3',
  'shift 3',
  '"$@" </dev/null 3>&- 4<&- &',
  'pid=$!',
  'echo "$pid" >&3',
  'exec 3>&-',
  '(',
  '  if read -r _line <&4; then exit 0; fi',
  "  trap '' TERM",
  '  n=0',
  '  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt "$delay" ]; do',
  '    if [ -n "$after" ]; then',
  '      busy=',
  '      for p in $(cat "$after" 2>/dev/null); do',
  '        if kill -0 "$p" 2>/dev/null; then busy=1; break; fi',
  '      done',
  '      [ -n "$busy" ] || break',
  '    fi',
  '    sleep 0.1',
  '    n=$((n + 1))',
  '  done',
  '  kill -TERM "$pid" 2>/dev/null',
  '  n=0',
  '  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 100 ]; do sleep 0.1; n=$((n + 1)); done',
  '  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi',
  '  [ -z "$dir" ] || rm -rf "$dir"',
  ') &',
  'watcher=$!',
  'exec 4<&-',
  'wait "$pid"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
/** How long to wait for the output pipes to drain once the command has exited. */
const DRAIN_MS = 500;

export interface SpawnWatchedOptions {
  /** The command's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Its working directory (default: this process's). */
  readonly cwd?: string;
  /** Remove this directory when the watchdog fires (default: none). */
  readonly orphanDir?: string | null;
  /** How much of the combined output `output()` keeps (default 64 KiB). */
  readonly outputLimit?: number;
  /** Called with every complete line of output (and a last unterminated one at exit). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Run it in a session and process group of its own (default false), so a signal to our
   * process group (a terminal's Ctrl-C) does not reach it; the watchdog still works.
   */
  readonly detached?: boolean;
  /**
   * When the watchdog fires, wait this long (default 0; rounded to tenths of a second) before
   * SIGTERM, while the command runs: processes that need this one (a nats-server) stop first.
   */
  readonly termDelayMs?: number;
  /**
   * With `termDelayMs`: a file of pids (whitespace-separated, read when the watchdog fires);
   * the wait ends early once none of them runs.
   */
  readonly outliveFile?: string;
}

/** A process that dies with us: see WATCHDOG. */
export interface WatchedProcess {
  /** The command's own pid (not the watchdog shell's). */
  readonly pid: number;
  readonly running: boolean;
  /** Once it has exited: its exit code, or null when a signal killed it. */
  readonly exitCode: number | null;
  /** Once it has exited: the signal that killed it, else null. */
  readonly signal: NodeJS.Signals | null;
  /**
   * Settles once the command has exited and its output has been read (never rejects). Unlike
   * `waitExit`, awaiting it does not keep this process alive.
   */
  readonly exited: Promise<void>;
  /** The tail of the command's stdout and stderr (see `outputLimit`). */
  output(): string;
  /** Disarm the watchdog before stopping the command on purpose (keeps the orphan dir). */
  release(): void;
  /** Signal the command itself; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
  /**
   * True once the command has exited and been reaped and its output has been read, false if
   * `timeoutMs` passed first.
   */
  waitExit(timeoutMs: number): Promise<boolean>;
}

type WatchdogChild = ChildProcess & {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
};

class Watched implements WatchedProcess {
  private chunks: string[] = [];
  private size = 0;
  private readonly partial = { stdout: '', stderr: '' };
  private done = false;
  private status: { code: number | null; signal: NodeJS.Signals | null } = {
    code: null,
    signal: null,
  };
  readonly exited: Promise<void>;

  constructor(
    readonly pid: number,
    private readonly child: WatchdogChild,
    private readonly limit: number,
    private readonly onLine: SpawnWatchedOptions['onLine'],
    head: { stdout: string; stderr: string },
  ) {
    this.append(head.stdout, 'stdout');
    this.append(head.stderr, 'stderr');
    child.stdout.on('data', (chunk: string) => this.append(chunk, 'stdout'));
    child.stderr.on('data', (chunk: string) => this.append(chunk, 'stderr'));
    this.exited = new Promise<void>((resolve) => {
      // 'close' comes once the pipes are drained too; a grandchild holding them open must not
      // hide the exit, so 'exit' plus a short grace period also counts.
      const drained = (): void => void setTimeout(resolve, DRAIN_MS).unref();
      child.once('close', () => resolve());
      if (child.exitCode !== null || child.signalCode !== null) drained();
      else child.once('exit', drained);
    }).then(() => {
      this.status = statusOf(child);
      this.done = true;
      this.flush('stdout');
      this.flush('stderr');
    });
    // Dispose is the contract; the watchdog and the exit hook only catch leaks, so a
    // forgotten process must not keep the test process alive.
    setRef(child, false);
  }

  get running(): boolean {
    return !this.done;
  }

  get exitCode(): number | null {
    return this.status.code;
  }

  get signal(): NodeJS.Signals | null {
    return this.status.signal;
  }

  output(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join('')];
    const all = this.chunks[0] ?? '';
    return all.length > this.limit ? all.slice(-this.limit) : all;
  }

  release(): void {
    if (this.child.stdin.writable) this.child.stdin.end('release\n');
  }

  kill(signal: NodeJS.Signals): void {
    // `running` stays true until the pipes drain; the shell's exit is what says the pid is gone.
    if (this.done || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  async waitExit(timeoutMs: number): Promise<boolean> {
    if (this.done) return true;
    const timer = new AbortController();
    setRef(this.child, true);
    try {
      return await Promise.race([
        this.exited.then(() => true),
        sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false),
      ]);
    } finally {
      timer.abort();
      if (!this.done) setRef(this.child, false);
    }
  }

  private append(chunk: string, stream: 'stdout' | 'stderr'): void {
    if (chunk === '') return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.limit) {
      this.size -= this.chunks.shift()!.length;
    }
    if (!this.onLine) return;
    const text = this.partial[stream] + chunk;
    const lines = text.split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.emit(line, stream);
  }

  private flush(stream: 'stdout' | 'stderr'): void {
    const rest = this.partial[stream];
    this.partial[stream] = '';
    if (rest !== '') this.emit(rest, stream);
  }

  private emit(line: string, stream: 'stdout' | 'stderr'): void {
    try {
      this.onLine?.(line.endsWith('\r') ? line.slice(0, -1) : line, stream);
    } catch {
      // A listener's bug must not break the output pipe.
    }
  }
}

/** The command's status from the shell's: `exit "$status"` turns "killed by n" into 128 + n. */
function statusOf(child: ChildProcess): { code: number | null; signal: NodeJS.Signals | null } {
  if (child.signalCode !== null) return { code: null, signal: child.signalCode };
  const code = child.exitCode;
  if (code !== null && code > 128) {
    const signal = signalName(code - 128);
    if (signal) return { code: null, signal };
  }
  return { code, signal: null };
}

function signalName(n: number): NodeJS.Signals | null {
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === n) return name as NodeJS.Signals;
  }
  return null;
}

function setRef(child: ChildProcess, ref: boolean): void {
  const handles: unknown[] = [child, ...child.stdio];
  for (const handle of handles) {
    const h = handle as { ref?: () => void; unref?: () => void } | null;
    if (ref) h?.ref?.();
    else h?.unref?.();
  }
}

/**
 * Start `command` under the watchdog; resolves once its pid is known. The third argument may be
 * the orphan dir itself (the original signature) or the options.
 */
export function spawnWatched(
  command: string,
  args: readonly string[],
  options: SpawnWatchedOptions | string | null = {},
): Promise<WatchedProcess> {
  const opts: SpawnWatchedOptions =
    typeof options === 'string' || options === null ? { orphanDir: options } : options;
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      WATCHDOG,
      'cb-watchdog',
      opts.orphanDir ?? '',
      String(Math.max(0, Math.round((opts.termDelayMs ?? 0) / 100))),
      opts.outliveFile ?? '',
      command,
      ...args,
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: opts.detached ?? false,
    },
  ) as WatchdogChild;
  const control = child.stdio[3] as Readable;
  child.stdin.on('error', () => {
    // EPIPE once the watcher is gone: nothing left to tell it.
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  control.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let pidText = '';
    const head = { stdout: '', stderr: '' };
    const onStdout = (chunk: string): void => {
      head.stdout += chunk;
    };
    const onStderr = (chunk: string): void => {
      head.stderr += chunk;
    };
    const onControl = (chunk: string): void => {
      pidText += chunk;
      const newline = pidText.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      const pid = Number(pidText.slice(0, newline));
      if (!Number.isInteger(pid) || pid <= 0) {
        child.kill('SIGKILL');
        reject(new Error(`watchdog printed no pid for ${command}: ${pidText}${head.stderr}`));
        return;
      }
      const limit = opts.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
      resolve(new Watched(pid, child, limit, opts.onLine, head));
    };
    // The shell closes fd 3 right after writing the pid: EOF without one means it never started.
    const onControlEnd = (): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(
        new Error(
          `watchdog for ${command} exited before starting it: ${head.stdout}${head.stderr}`,
        ),
      );
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new Error(`cannot start a watchdog shell (/bin/sh) for ${command}`, { cause: err }));
    };
    const cleanup = (): void => {
      control.off('data', onControl);
      child.stdout.off('data', onStdout);
      child.stderr.off('data', onStderr);
      control.off('end', onControlEnd);
      child.off('error', onError);
    };
    control.on('data', onControl);
    child.stdout.on('data', onStdout);
    child.stderr.on('data', onStderr);
    control.once('end', onControlEnd);
    child.once('error', onError);
  });
}
