import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { onProcessExit } from '../nats/exit-cleanup';
import { spawnWatched, type WatchedProcess } from '@cb/ops';
import { REPO_ROOT } from './repo-root';

export type ServiceName =
  'command-service' | 'projection-service' | 'query-gateway' | 'automation-service';

/** One of our services running as a real process under the watchdog; see `startService`. */
export interface ServiceProcess {
  /** A label for messages, e.g. 'gateway-1' (default `<service>-<n>`). */
  readonly name: string;
  readonly service: ServiceName;
  readonly pid: number;
  readonly running: boolean;
  /** Once it has exited: its exit code, or null when a signal killed it. */
  readonly exitCode: number | null;
  /** The last 256 KiB of its combined stdout and stderr (pino JSON lines). */
  output(): string;
  /**
   * SIGTERM (or the given signal) and wait for exit up to `timeoutMs` (default 10 s), then
   * SIGKILL. Resolves with the exit code (null if killed by a signal). Idempotent.
   */
  stop(options?: StopServiceOptions): Promise<number | null>;
  /** Signal the process; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void;
  /** True once it has exited, false if `timeoutMs` passed first. */
  waitExit(timeoutMs: number): Promise<boolean>;
  /**
   * Resolve with the first line of output matching `pattern`, past output included. Throws with
   * the tail of the output after `timeoutMs` (default 10 s) or if the process exits first.
   */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface StopServiceOptions {
  readonly signal?: NodeJS.Signals;
  readonly timeoutMs?: number;
}

export interface StartServiceOptions {
  /** Variables merged over a minimal base (PATH, HOME, TMPDIR; no NODE_OPTIONS). */
  readonly env: Record<string, string>;
  /** Label for messages (default `<service>-<n>`). */
  readonly name?: string;
  /** Ready once a GET of this URL answers 200. */
  readonly readyUrl?: string;
  /** Ready once a line of output matches (with `readyUrl`: both are awaited). */
  readonly readyLine?: RegExp;
  /** How long start-up may take (default 30 s). */
  readonly timeoutMs?: number;
}

const OUTPUT_LIMIT = 256 * 1024;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const LINE_TIMEOUT_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const TAIL_CHARS = 8 * 1024;
const BASE_ENV_KEYS = ['PATH', 'HOME', 'TMPDIR'] as const;

const counters = new Map<string, number>();

/** The entry point of a service: apps/<service>/src/main.ts. */
export function serviceMain(service: ServiceName): string {
  return join(REPO_ROOT, 'apps', service, 'src', 'main.ts');
}

/**
 * Run a service as a real process: `node --import tsx apps/<service>/src/main.ts` in the repo
 * root (tsx resolves the tsconfig path aliases), under the watchdog, so it dies with the test
 * process even when that is SIGKILLed, and with an exit hook that kills it when the test process
 * exits without stopping it. Resolves once it is ready (`readyUrl`/`readyLine`), or at once when
 * neither is given. Throws with the tail of its output when it exits or is not ready in time.
 * Always `stop()` it (afterAll: `stopAll`).
 */
export async function startService(
  service: ServiceName,
  options: StartServiceOptions,
): Promise<ServiceProcess> {
  const main = serviceMain(service);
  if (!existsSync(main)) throw new Error(`${service} has no entry point: ${main} does not exist`);
  const name = options.name ?? defaultName(service);
  const timeoutMs = options.timeoutMs ?? START_TIMEOUT_MS;
  const started = Date.now();

  const lines = new LineWatchers();
  // CB_PROFILE=<dir> writes a V8 CPU profile of every service process there when it exits.
  const profile = process.env.CB_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CB_PROFILE}`]
    : [];
  const watched = await spawnWatched(process.execPath, [...profile, '--import', 'tsx', main], {
    env: { ...baseEnv(), ...options.env },
    cwd: REPO_ROOT,
    outputLimit: OUTPUT_LIMIT,
    onLine: (line) => lines.push(line),
  });
  const proc = new Service(name, service, watched, lines);

  try {
    await Promise.all([
      options.readyLine ? proc.waitForLine(options.readyLine, timeoutMs) : undefined,
      options.readyUrl ? waitForUrl(proc, options.readyUrl, started + timeoutMs) : undefined,
    ]);
    return proc;
  } catch (err) {
    await proc.stop({ signal: 'SIGKILL' }).catch(() => undefined);
    const waited = [
      options.readyLine ? `a line matching ${String(options.readyLine)}` : null,
      options.readyUrl ? `200 from ${options.readyUrl}` : null,
    ].filter(Boolean);
    const why =
      proc.exitCode !== null || !(err instanceof StartTimeout || err instanceof LineTimeout)
        ? exitedMessage(proc)
        : `was not ready within ${timeoutMs} ms (waiting for ${waited.join(' and ')})`;
    throw new Error(`${proc.name} (${service}, pid ${proc.pid}) ${why}${tailOf(proc)}`, {
      cause: err,
    });
  }
}

/** Stop every started process (undefined entries are skipped), in parallel; for afterAll. */
export async function stopAll(processes: Array<ServiceProcess | undefined>): Promise<void> {
  const started = processes.filter((p): p is ServiceProcess => p !== undefined);
  const results = await Promise.allSettled(started.map((p) => p.stop()));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    throw new AggregateError(errors, `${errors.length} service processes could not be stopped`);
  }
}

function defaultName(service: ServiceName): string {
  const n = (counters.get(service) ?? 0) + 1;
  counters.set(service, n);
  return `${service}-${n}`;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of BASE_ENV_KEYS) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

interface LineWatcher {
  readonly pattern: RegExp;
  readonly resolve: (line: string) => void;
}

/** Routes each new output line to whoever waits for a matching one. */
class LineWatchers {
  private readonly watchers = new Set<LineWatcher>();

  push(line: string): void {
    for (const watcher of this.watchers) {
      if (watcher.pattern.test(line)) {
        this.watchers.delete(watcher);
        watcher.resolve(line);
      }
    }
  }

  add(watcher: LineWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }
}

class LineTimeout extends Error {}
class StartTimeout extends Error {}

class Service implements ServiceProcess {
  private stopping: Promise<number | null> | null = null;
  private readonly unregister: () => void;

  constructor(
    readonly name: string,
    readonly service: ServiceName,
    private readonly proc: WatchedProcess,
    private readonly lines: LineWatchers,
  ) {
    // Synchronous last resort when the test process exits without stop().
    this.unregister = onProcessExit(() => {
      if (this.proc.running) this.proc.kill('SIGKILL');
    });
    void proc.exited.then(() => this.unregister());
  }

  get pid(): number {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.proc.running;
  }

  get exitCode(): number | null {
    return this.proc.exitCode;
  }

  output(): string {
    return this.proc.output();
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }

  waitExit(timeoutMs: number): Promise<boolean> {
    return this.proc.waitExit(timeoutMs);
  }

  stop(options: StopServiceOptions = {}): Promise<number | null> {
    this.stopping ??= this.terminate(options);
    return this.stopping;
  }

  async waitForLine(pattern: RegExp, timeoutMs = LINE_TIMEOUT_MS): Promise<string> {
    // A global or sticky regex would carry lastIndex from one line to the next.
    const regex =
      pattern.global || pattern.sticky
        ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))
        : pattern;
    // Every complete line seen so far (the last piece may still grow, so it comes later).
    const seen = this.output().split('\n');
    if (this.running) seen.pop();
    const past = seen.find((line) => regex.test(line));
    if (past !== undefined) return past;
    if (!this.running)
      throw new Error(
        `${this.name} ${exitedMessage(this)} before printing a line matching ${String(pattern)}${tailOf(this)}`,
      );

    return new Promise<string>((resolve, reject) => {
      const finish = (): void => {
        remove();
        clearTimeout(timer);
      };
      const remove = this.lines.add({
        pattern: regex,
        resolve: (line) => {
          finish();
          resolve(line);
        },
      });
      const timer = setTimeout(() => {
        finish();
        reject(
          new LineTimeout(
            `${this.name} printed no line matching ${String(pattern)} within ${timeoutMs} ms${tailOf(this)}`,
          ),
        );
      }, timeoutMs);
      void this.proc.exited.then(() => {
        // The last lines were delivered before `exited` settled: a match has resolved already.
        finish();
        reject(
          new Error(
            `${this.name} ${exitedMessage(this)} before printing a line matching ${String(pattern)}${tailOf(this)}`,
          ),
        );
      });
    });
  }

  private async terminate(options: StopServiceOptions): Promise<number | null> {
    const { signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS } = options;
    if (this.running) {
      this.proc.kill(signal);
      if (!(await this.proc.waitExit(timeoutMs))) {
        this.proc.kill('SIGKILL');
        if (!(await this.proc.waitExit(KILL_WAIT_MS))) {
          throw new Error(`${this.name} (pid ${this.pid}) did not exit after SIGKILL`);
        }
      }
    }
    this.unregister();
    return this.proc.exitCode;
  }
}

function exitedMessage(proc: {
  readonly exitCode: number | null;
  readonly running: boolean;
}): string {
  if (proc.running) return 'is still running';
  return proc.exitCode === null ? 'was killed by a signal' : `exited with code ${proc.exitCode}`;
}

/** The last few KiB of output, from a line start, for error messages. */
function tailOf(proc: ServiceProcess): string {
  const output = proc.output();
  let tail = output.slice(-TAIL_CHARS);
  if (tail.length < output.length) tail = tail.slice(tail.indexOf('\n') + 1);
  return tail.trim() === '' ? '\n(no output)' : `\n--- last output ---\n${tail.trimEnd()}`;
}

/** Poll `url` until it answers 200; fails when the process exits or at `deadline`. */
async function waitForUrl(proc: ServiceProcess, url: string, deadline: number): Promise<void> {
  for (;;) {
    if (!proc.running) throw new Error(`${proc.name} exited while waiting for ${url}`);
    const left = deadline - Date.now();
    if (left <= 0) throw new StartTimeout(`${url} did not answer 200 in time`);
    if ((await statusOf(url, Math.min(1000, left))) === 200) return;
    await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
  }
}

function statusOf(url: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}
