import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPO_ROOT,
  freePort,
  isAlive,
  loadFixtureWorkflow,
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
const WORKFLOWS = [
  'article_publishing',
  'document_review',
  'order_processing',
  'software_deployment',
];
const SERVICES = ['nats-server', 'command', 'projection-1', 'projection-2', 'gateway'];

interface Launcher {
  proc: WatchedProcess;
  lines: string[];
  /** Service name → pid, from the launcher's "<name> started (pid N)" lines. */
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
function descendants(root: number): Map<number, string> {
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
function natsServersFor(dir: string, { shells = true } = {}): string[] {
  return processTable()
    .filter((p) => p.args.includes('nats-server') && p.args.includes(dir))
    .filter((p) => shells || /(^|\/)nats-server$/.test(p.args.split(' ')[0]!))
    .map((p) => `${p.pid} ${p.args}`);
}

describe('npm start (tools/stack/start.ts)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let gateway: string;
  const started: Launcher[] = [];
  // Written in the first run, read after the restart.
  let saved: { workflowId: string; tokenId: string; version: number; place: string } | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cb-launcher-'));
    const [natsPort, gatewayPort] = [await freePort(), await freePort()];
    gateway = `http://127.0.0.1:${gatewayPort}`;
    env = { ...process.env };
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
    });
  });

  afterAll(async () => {
    // Only after a failure is anything left: kill it all.
    for (const l of started) {
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
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function startLauncher(): Promise<{ launcher: Launcher; readyMs: number }> {
    const lines: string[] = [];
    const t0 = Date.now();
    const proc = await spawnWatched(
      'setsid',
      [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'tools/stack/start.ts')],
      { env, cwd: REPO_ROOT, onLine: (line) => lines.push(line) },
    );
    // setsid ran the launcher itself (no fork): its pid leads its own process group.
    expect(groupOf(proc.pid)).toBe(proc.pid);
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
    started.push(launcher);
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

  /** SIGTERM the launcher; how long until it and every descendant were gone, and how many. */
  async function stopLauncher(launcher: Launcher): Promise<{ stoppedMs: number; count: number }> {
    const tree = descendants(launcher.proc.pid);
    const pids = launcher.pids();
    // Every service the launcher reported is one of its children.
    for (const name of SERVICES) {
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
    expect(natsServersFor(dataDir)).toEqual([]);
    started.splice(started.indexOf(launcher), 1);
    return { stoppedMs, count: all.length };
  }

  async function json<T>(
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: T }> {
    const res = await fetch(gateway + path, {
      method: init.method ?? 'GET',
      ...(init.body !== undefined
        ? { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }
        : {}),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  it('from a clean data dir: ready within 30 s, the demo runs, SIGTERM stops everything within 10 s', async () => {
    const { launcher, readyMs } = await startLauncher();
    expect(readyMs).toBeLessThan(30_000);
    expect(launcher.lines.join('\n')).toContain(`(data in ${join(dataDir, 'nats')})`);

    const demo = await runDemo(gateway);
    expect({ code: demo.code, output: demo.output }).toEqual({
      code: 0,
      output: expect.stringContaining('Demo finished'),
    });
    for (const workflow of WORKFLOWS) expect(demo.output).toContain(workflow);
    expect(demo.output).toMatch(/422 GUARD_FAILED/);
    expect(demo.output).toMatch(/\/data\/word_count must be > 100/);

    const tokenId = `launcher-e2e-${Date.now().toString(36)}`;
    const created = await json<{ version: number }>('/v1/workflows/document_review/tokens', {
      method: 'POST',
      body: { id: tokenId, data: { title: 'kept across restarts' } },
    });
    expect(created.status).toBe(201);
    const fired = await json<{ version: number; place: string }>(
      `/v1/workflows/document_review/tokens/${tokenId}/fire`,
      { method: 'POST', body: { transition: 'submit' } },
    );
    expect(fired.status).toBe(200);
    saved = {
      workflowId: 'document_review',
      tokenId,
      version: fired.body.version,
      place: fired.body.place,
    };
    // Projected before the stop, so the restart finds it in the read model too.
    const projected = await json<{ version: number }>(
      `/v1/workflows/document_review/tokens/${tokenId}?minSeq=${saved.version}`,
    );
    expect(projected).toMatchObject({ status: 200, body: { version: saved.version } });

    const { stoppedMs, count } = await stopLauncher(launcher);
    expect(stoppedMs).toBeLessThan(10_000);
    console.log(
      `launcher: ready in ${readyMs} ms; ${count} processes gone ${stoppedMs} ms after SIGTERM`,
    );
  }, 120_000);

  it('started again on the same data dir, the data is still there', async () => {
    expect(saved).toBeDefined();
    const { workflowId, tokenId, version, place } = saved!;
    const { launcher, readyMs } = await startLauncher();
    expect(readyMs).toBeLessThan(30_000);

    const strong = await json<{ version: number; place: string }>(
      `/v1/workflows/${workflowId}/tokens/${tokenId}?consistency=strong`,
    );
    expect(strong).toMatchObject({ status: 200, body: { version, place } });
    const projected = await json<{ version: number; place: string }>(
      `/v1/workflows/${workflowId}/tokens/${tokenId}`,
    );
    expect(projected).toMatchObject({ status: 200, body: { version, place } });
    const definitions = await json<{ items: Array<{ id: string }> }>('/v1/workflows?limit=50');
    expect(definitions.body.items.map((w) => w.id)).toEqual(expect.arrayContaining(WORKFLOWS));

    const { stoppedMs, count } = await stopLauncher(launcher);
    expect(stoppedMs).toBeLessThan(10_000);
    console.log(
      `launcher restart: ready in ${readyMs} ms; ${count} processes gone ${stoppedMs} ms after SIGTERM`,
    );
  }, 120_000);

  it('the demo without a gateway says to start the stack and exits 1', async () => {
    const result = await runDemo(`http://127.0.0.1:${await freePort()}`);
    expect(result.code).toBe(1);
    expect(result.output).toContain('Start the stack with `npm start`');
  }, 30_000);

  it('refuses a bad or taken NATS_PORT with a message naming it', async () => {
    const result = await runNode(['--import', 'tsx', 'tools/stack/start.ts'], {
      ...env,
      NATS_PORT: '99999',
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('NATS_PORT="99999" is invalid: expected a port number');

    // A taken NATS_PORT is refused rather than silently used.
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const taken = await runNode(['--import', 'tsx', 'tools/stack/start.ts'], {
        ...env,
        NATS_PORT: String(port),
      });
      expect(taken.code).toBe(1);
      expect(taken.output).toContain(`NATS_PORT=${port} is taken by another process`);
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  }, 30_000);

  /** The first launcher line after `from` matching `pattern`, within `timeoutMs`. */
  async function lineAfter(
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

  /** Poll until every pid is gone; when each went, in ms from `t0`. */
  async function deathTimes(
    pids: Map<string, number>,
    others: number[],
    t0: number,
    timeoutMs: number,
  ): Promise<Map<string, number>> {
    const gone = new Map<string, number>();
    await waitFor(
      () => {
        for (const [name, pid] of pids) {
          if (!gone.has(name) && !isAlive(pid)) gone.set(name, Date.now() - t0);
        }
        return gone.size === pids.size && !others.some(isAlive);
      },
      {
        timeoutMs,
        intervalMs: 10,
        description: `every process to exit: ${[...pids.values(), ...others].filter(isAlive).join(', ')}`,
      },
    );
    return gone;
  }

  describe('issue 10, measured 9: a dead child stops the whole stack; Ctrl-C skips the graceful order', () => {
    let supervised: Launcher | undefined;
    let written: { tokenId: string; version: number } | undefined;

    it('a SIGKILLed projection worker is back (new pid, /ready 200) within a few seconds; the others keep their pids and the stack keeps serving', async () => {
      const { launcher } = await startLauncher();
      supervised = launcher;
      const before = launcher.pids();
      const old = before.get('projection-1')!;
      const from = launcher.lines.length;
      const t0 = Date.now();
      process.kill(old, 'SIGKILL');
      const [, pid, readyUrl] = await lineAfter(
        launcher,
        from,
        /^launcher\s+projection-1 is ready again \(pid (\d+), (\S+)\)/,
        10_000,
      );
      const backMs = Date.now() - t0;
      expect(Number(pid)).not.toBe(old);
      expect(isAlive(old)).toBe(false);
      expect(launcher.pids().get('projection-1')).toBe(Number(pid));
      expect((await fetch(readyUrl!, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
      expect(launcher.lines.slice(from)).toContainEqual(
        expect.stringMatching(/exited unexpectedly \(signal SIGKILL\)/),
      );
      for (const name of SERVICES.filter((n) => n !== 'projection-1')) {
        expect([name, launcher.pids().get(name), isAlive(before.get(name)!)]).toEqual([
          name,
          before.get(name),
          true,
        ]);
      }

      const defined = await json('/v1/workflows', {
        method: 'POST',
        body: loadFixtureWorkflow('document-review'),
      });
      expect([201, 409]).toContain(defined.status);
      const tokenId = `supervised-${Date.now().toString(36)}`;
      const created = await json<{ version: number }>('/v1/workflows/document_review/tokens', {
        method: 'POST',
        body: { id: tokenId },
      });
      expect(created.status).toBe(201);
      const strong = await json(
        `/v1/workflows/document_review/tokens/${tokenId}?consistency=strong`,
      );
      expect(strong.status).toBe(200);
      // The killed worker's partitions move once its leases lapse (PROJECTION_LEASE_TTL_MS, 10 s).
      await waitFor(
        async () =>
          (await json(`/v1/tokens/${tokenId}?minSeq=${created.body.version}`)).status === 200,
        { timeoutMs: 30_000, intervalMs: 100, description: `${tokenId} projected` },
      );
      const projectedMs = Date.now() - t0;
      written = { tokenId, version: created.body.version };
      console.log(
        `projection worker SIGKILLed: back and ready in ${backMs} ms; a new token projected ${projectedMs} ms after the kill`,
      );
    }, 120_000);

    it('a SIGKILLed nats-server is back on the same port and store; the services reconnect and keep their pids', async () => {
      const launcher = supervised!;
      expect(written).toBeDefined();
      const before = launcher.pids();
      const from = launcher.lines.length;
      const t0 = Date.now();
      process.kill(before.get('nats-server')!, 'SIGKILL');
      const [, pid, port] = await lineAfter(
        launcher,
        from,
        /^launcher\s+nats-server is ready again \(pid (\d+), 127\.0\.0\.1:(\d+)\)/,
        10_000,
      );
      expect(port).toBe(env.NATS_PORT);
      expect(natsServersFor(dataDir, { shells: false })).toEqual([
        expect.stringMatching(new RegExp(`^${pid} `)),
      ]);
      // Until every service has reconnected, writes answer 503 with a code (and Retry-After).
      const outage = new Set<string>();
      await waitFor(
        async () => {
          const res = await json<{ code?: string }>(
            `/v1/workflows/document_review/tokens/${written!.tokenId}`,
            { method: 'PATCH', body: { data: { after: 'nats restart' } } },
          );
          if (res.status === 200) return true;
          outage.add(`${res.status} ${res.body.code}`);
          return false;
        },
        { timeoutMs: 30_000, intervalMs: 200, description: 'a write to succeed again' },
      );
      const backMs = Date.now() - t0;
      expect([...outage].filter((o) => !/^503 [A-Z_]+$/.test(o))).toEqual([]);
      const strong = await json<{ version: number; data: Record<string, unknown> }>(
        `/v1/workflows/document_review/tokens/${written!.tokenId}?consistency=strong`,
      );
      expect(strong).toMatchObject({
        status: 200,
        body: { version: expect.any(Number), data: { after: 'nats restart' } },
      });
      expect(strong.body.version).toBeGreaterThan(written!.version);
      await waitFor(
        async () => (await fetch(`${gateway}/ready`, { signal: AbortSignal.timeout(2000) })).ok,
        { timeoutMs: 10_000, intervalMs: 200, description: 'the gateway to be ready again' },
      );
      for (const name of SERVICES.filter((n) => n !== 'nats-server')) {
        expect([name, launcher.pids().get(name)]).toEqual([name, before.get(name)]);
      }
      console.log(
        `nats-server SIGKILLed: writes again after ${backMs} ms (meanwhile: ${[...outage].join(', ') || 'none'})`,
      );
    }, 120_000);

    it('SIGINT to the launcher’s whole process group stops each service once, in order, nats-server last: no "second signal", no process left', async () => {
      const launcher = supervised!;
      const pids = launcher.pids();
      const tree = descendants(launcher.proc.pid);
      for (const name of SERVICES) expect(tree.has(pids.get(name)!)).toBe(true);
      const from = launcher.lines.length;
      launcher.proc.release();
      const t0 = Date.now();
      // What a terminal's Ctrl-C does: SIGINT to every process of the foreground group.
      process.kill(-launcher.proc.pid, 'SIGINT');
      const gone = await deathTimes(pids, [launcher.proc.pid, ...tree.keys()], t0, 30_000);
      expect(await launcher.proc.waitExit(5000)).toBe(true);
      expect(launcher.proc.exitCode).toBe(0);
      started.splice(started.indexOf(launcher), 1);

      const log = launcher.lines.slice(from);
      expect(launcher.lines.filter((l) => /second signal/.test(l))).toEqual([]);
      const at = (pattern: RegExp): number[] =>
        log.flatMap((line, i) => (pattern.test(line) ? [i] : []));
      for (const name of SERVICES) {
        expect([name, at(new RegExp(`^launcher\\s+stopping ${name}…`)).length]).toEqual([name, 1]);
        expect([name, at(new RegExp(`^launcher\\s+${name} stopped \\(code 0,`)).length]).toEqual([
          name,
          1,
        ]);
      }
      const stopping = (name: string): number =>
        at(new RegExp(`^launcher\\s+stopping ${name}…`))[0]!;
      const stopped = (name: string): number => at(new RegExp(`^launcher\\s+${name} stopped`))[0]!;
      const projections = ['projection-1', 'projection-2'];
      for (const p of projections) expect(stopped('gateway')).toBeLessThan(stopping(p));
      for (const p of projections) expect(stopped(p)).toBeLessThan(stopping('command'));
      expect(stopped('command')).toBeLessThan(stopping('nats-server'));
      expect(log.at(-1)).toMatch(/^launcher\s+stopped/);
      // And the processes exited in that order.
      const ms = (name: string): number => gone.get(name)!;
      for (const p of projections) {
        expect(ms('gateway')).toBeLessThanOrEqual(ms(p));
        expect(ms(p)).toBeLessThanOrEqual(ms('command'));
      }
      expect(ms('command')).toBeLessThanOrEqual(ms('nats-server'));
      expect(natsServersFor(dataDir)).toEqual([]);
      console.log(`Ctrl-C: exited after ${SERVICES.map((n) => `${n} ${ms(n)} ms`).join(', ')}`);
    }, 60_000);

    it('a SIGKILLed launcher takes every child with it within a few seconds, nats-server last', async () => {
      const { launcher } = await startLauncher();
      const pids = launcher.pids();
      const tree = descendants(launcher.proc.pid);
      const t0 = Date.now();
      launcher.proc.kill('SIGKILL');
      const gone = await deathTimes(pids, [...tree.keys()], t0, 20_000);
      const goneMs = Date.now() - t0;
      expect(await launcher.proc.waitExit(5000)).toBe(true);
      started.splice(started.indexOf(launcher), 1);
      // The services get SIGTERM at once, nats-server once they are gone.
      expect(goneMs).toBeLessThan(8000);
      for (const name of SERVICES.filter((n) => n !== 'nats-server')) {
        expect(gone.get(name)!).toBeLessThanOrEqual(gone.get('nats-server')!);
      }
      expect(natsServersFor(dataDir)).toEqual([]);
      console.log(
        `launcher SIGKILLed: every process gone after ${goneMs} ms; ${SERVICES.map((n) => `${n} ${gone.get(n)} ms`).join(', ')}`,
      );
    }, 60_000);
  });
});

function runDemo(gateway: string): Promise<{ code: number | null; output: string }> {
  return runNode(['--import', 'tsx', 'tools/demo/demo.ts'], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CB_URL: gateway,
    NO_COLOR: '1',
  });
}

function runNode(
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
