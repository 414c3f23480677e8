import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT,
  freePort,
  isAlive,
  spawnWatched,
  waitFor,
  type WatchedProcess,
} from '@cb/testing';

/*
 * `npm start` end to end: the launcher as a real process (`node --import tsx tools/stack/start.ts`)
 * with a private data dir and free ports, so it never touches a NATS server on 4222 nor `.data/`.
 * It runs in a session of its own (`setsid`), as a terminal's foreground job does, so a signal to
 * its process group reaches no test process.
 */

const READY = /Circuit Breaker is ready/;

export interface Launcher {
  proc: WatchedProcess;
  lines: string[];
  /** Service name → pid, from the launcher's last "<name> started (pid N)" line for each. */
  pids(): Map<string, number>;
}

/** Every process on the machine: pid, parent pid and command line. */
function processTable(): Array<{ pid: number; ppid: number; args: string }> {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]! }));
}

/** Every descendant of `root` (children, grandchildren…), with its command line. */
export function descendants(root: number): Map<number, string> {
  const table = processTable();
  const found = new Map<number, string>();
  let frontier = [root];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const p of table) {
      if (frontier.includes(p.ppid) && !found.has(p.pid)) {
        found.set(p.pid, p.args);
        next.push(p.pid);
      }
    }
    frontier = next;
  }
  return found;
}

/** The process group of `pid`. */
function groupOf(pid: number): number {
  return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }));
}

/** nats-server processes (and their watchdog shells) whose command line names `dir`. */
export function natsServersFor(dir: string, { shells = true } = {}): string[] {
  return processTable()
    .filter((p) => p.args.includes('nats-server') && p.args.includes(dir))
    .filter((p) => shells || /(^|\/)nats-server$/.test(p.args.split(' ')[0]!))
    .map((p) => `${p.pid} ${p.args}`);
}

/**
 * Launchers started on one private data dir with free ports (NATS_PORT, GATEWAY_PORT), the
 * caller's environment without its NATS_*, CB_* and NODE_OPTIONS, plus `extra`.
 */
export class LauncherHarness {
  private readonly started: Launcher[] = [];

  private constructor(
    readonly dataDir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly gateway: string,
  ) {}

  static async create(extra: Record<string, string> = {}): Promise<LauncherHarness> {
    const dataDir = mkdtempSync(join(tmpdir(), 'cb-launcher-'));
    const [natsPort, gatewayPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) {
      if (key.startsWith('NATS_') || key.startsWith('CB_') || key === 'NODE_OPTIONS') {
        delete env[key];
      }
    }
    Object.assign(env, {
      CB_DATA_DIR: dataDir,
      NATS_PORT: String(natsPort),
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_HOST: '127.0.0.1',
      COMMAND_HTTP_HOST: '127.0.0.1',
      PROJECTION_HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...extra,
    });
    return new LauncherHarness(dataDir, env, `http://127.0.0.1:${gatewayPort}`);
  }

  /** Start a launcher and wait (30 s at most) until it says the stack is ready. */
  async start(): Promise<{ launcher: Launcher; readyMs: number }> {
    const lines: string[] = [];
    const t0 = Date.now();
    const proc = await spawnWatched(
      'setsid',
      [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'tools/stack/start.ts')],
      { env: this.env, cwd: REPO_ROOT, onLine: (line) => lines.push(line) },
    );
    const launcher: Launcher = {
      proc,
      lines,
      pids: () => {
        const pids = new Map<string, number>();
        for (const line of lines) {
          const m = /^launcher\s+(\S+) started \(pid (\d+)\)/.exec(line);
          if (m) pids.set(m[1]!, Number(m[2]));
        }
        return pids;
      },
    };
    // Tracked before anything can fail, so the harness stops it whatever happens.
    this.started.push(launcher);
    // setsid ran the launcher itself (no fork): its pid leads its own process group — once
    // setsid has made the call, which may be a moment after the process exists.
    await waitFor(() => groupOf(proc.pid) === proc.pid, {
      timeoutMs: 5000,
      intervalMs: 20,
      description: `the launcher (pid ${proc.pid}) to lead its own process group`,
    });
    await waitFor(
      () => {
        if (!proc.running) throw new Error(`the launcher exited:\n${lines.join('\n')}`);
        return lines.some((l) => READY.test(l));
      },
      { timeoutMs: 30_000, intervalMs: 100, description: 'the launcher to print that it is ready' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- launcher output ---\n${lines.slice(-40).join('\n')}`);
    });
    return { launcher, readyMs: Date.now() - t0 };
  }

  /**
   * SIGTERM the launcher, whose `services` must all be its children; how long until it and
   * every descendant were gone, and how many they were.
   */
  async stop(
    launcher: Launcher,
    services: string[],
  ): Promise<{ stoppedMs: number; count: number }> {
    const tree = descendants(launcher.proc.pid);
    const pids = launcher.pids();
    for (const name of services) {
      expect(pids.get(name)).toEqual(expect.any(Number));
      expect(tree.has(pids.get(name)!)).toBe(true);
    }
    const all = [launcher.proc.pid, ...tree.keys()];
    const t0 = Date.now();
    launcher.proc.release();
    launcher.proc.kill('SIGTERM');
    await waitFor(() => all.every((pid) => !isAlive(pid)), {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: `the launcher and its processes to exit: ${all
        .filter(isAlive)
        .map((pid) => `${pid} ${tree.get(pid) ?? 'launcher'}`)
        .join('; ')}`,
    });
    const stoppedMs = Date.now() - t0;
    expect(await launcher.proc.waitExit(5000)).toBe(true);
    expect(launcher.proc.exitCode).toBe(0);
    expect(launcher.lines.some((l) => /^launcher\s+stopped/.test(l))).toBe(true);
    expect(natsServersFor(this.dataDir)).toEqual([]);
    this.forget(launcher);
    return { stoppedMs, count: all.length };
  }

  /** A launcher that has exited: nothing left to clean up. */
  forget(launcher: Launcher): void {
    const i = this.started.indexOf(launcher);
    if (i >= 0) this.started.splice(i, 1);
  }

  /** The root credential the launcher generated on its first start (`<dataDir>/admin-key`). */
  adminKey(): string {
    return readFileSync(join(this.dataDir, 'admin-key'), 'utf8').trim();
  }

  /**
   * One JSON call to the gateway (10 s at most), with the launcher's root credential unless
   * `authorization` says otherwise (null: none).
   */
  async json<T>(
    path: string,
    init: { method?: string; body?: unknown; authorization?: string | null } = {},
  ): Promise<{ status: number; body: T }> {
    const authorization =
      init.authorization === undefined ? `Bearer ${this.adminKey()}` : init.authorization;
    const res = await fetch(this.gateway + path, {
      method: init.method ?? 'GET',
      headers: {
        ...(authorization === null ? {} : { authorization }),
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** afterAll: only after a failure is anything left; kill it all and remove the data dir. */
  async cleanup(): Promise<void> {
    for (const l of this.started.splice(0)) {
      const tree = descendants(l.proc.pid);
      l.proc.kill('SIGKILL');
      for (const pid of tree.keys()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await l.proc.waitExit(5000);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The first launcher line after `from` matching `pattern`, within `timeoutMs`. */
export async function lineAfter(
  launcher: Launcher,
  from: number,
  pattern: RegExp,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  const found = await waitFor(
    () => {
      for (const line of launcher.lines.slice(from)) {
        const m = pattern.exec(line);
        if (m) return m;
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 50, description: `a launcher line matching ${String(pattern)}` },
  ).catch((err: Error) => {
    throw new Error(
      `${err.message}\n--- launcher output ---\n${launcher.lines.slice(from).join('\n')}`,
    );
  });
  return found!;
}

/** Run node with `args` in the repository and collect its output (bounded by `timeoutMs`). */
export function runNode(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
