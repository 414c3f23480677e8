import { readFileSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from '@nats-io/transport-node';
import { join } from 'node:path';
import { freePort, isAlive, loadFixtureWorkflow, waitFor } from '@cb/testing';
import {
  LauncherHarness,
  descendants,
  lineAfter,
  natsServersFor,
  runNode,
  type Launcher,
} from './launcher-harness';

/* `npm start` end to end: see LauncherHarness. */

const WORKFLOWS = [
  'article_publishing',
  'document_review',
  'order_processing',
  'software_deployment',
];
const SERVICES = [
  'nats-server',
  'command',
  'projection-1',
  'projection-2',
  'automation',
  'gateway',
];

describe('npm start (tools/stack/start.ts)', () => {
  let h: LauncherHarness;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let gateway: string;
  // Written in the first run, read after the restart.
  let saved: { workflowId: string; tokenId: string; version: number; place: string } | undefined;
  /** nats-credentials.json as the first start wrote it. */
  let credentials: string | undefined;

  beforeAll(async () => {
    h = await LauncherHarness.create();
    ({ dataDir, env, gateway } = h);
  });

  afterAll(() => h.cleanup());

  const startLauncher = (): ReturnType<LauncherHarness['start']> => h.start();
  const stopLauncher = (launcher: Launcher): ReturnType<LauncherHarness['stop']> =>
    h.stop(launcher, SERVICES);
  const json = <T>(path: string, init?: Parameters<LauncherHarness['json']>[1]) =>
    h.json<T>(path, init);

  it('from a clean data dir: ready within 30 s, the demo runs, SIGTERM stops everything within 10 s', async () => {
    const { launcher, readyMs } = await startLauncher();
    expect(readyMs).toBeLessThan(30_000);
    expect(launcher.lines.join('\n')).toContain(`(data in ${join(dataDir, 'nats')})`);
    // Bootstrap: a root credential generated on this first start, kept 0600 and printed.
    const keyFile = join(dataDir, 'admin-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const adminKey = h.adminKey();
    expect(adminKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(launcher.lines.join('\n')).toContain(`root key  ${adminKey}`);
    // The console, built by the launcher when stale (issue 16), is served by its gateway.
    expect(launcher.lines.join('\n')).toMatch(/console: (build up to date|built into)/);
    expect(launcher.lines.join('\n')).toMatch(/console {3}http:\/\/localhost:\d+\/console\//);
    const page = await fetch(`${gateway}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/console/assets/');
    const anonymous = await json<{ code: string }>('/v1/workflows', { authorization: null });
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    // Its nats-server has a user per service, the passwords generated into the data dir.
    const credentialsFile = join(dataDir, 'nats-credentials.json');
    expect(statSync(credentialsFile).mode & 0o777).toBe(0o600);
    credentials = readFileSync(credentialsFile, 'utf8');
    expect(Object.keys(JSON.parse(credentials) as object).sort()).toEqual(
      ['admin', 'automation', 'command', 'gateway', 'projection'].sort(),
    );
    expect(launcher.lines.join('\n')).toContain(`passwords in ${credentialsFile}`);
    const natsUrl = /NATS\s+(nats:\/\/\S+)/.exec(launcher.lines.join('\n'))?.[1];
    expect(natsUrl).toBeDefined();
    await expect(connect({ servers: natsUrl!, reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );

    const demo = await runDemo(gateway, dataDir);
    expect({ code: demo.code, output: demo.output }).toEqual({
      code: 0,
      output: expect.stringContaining('Demo finished'),
    });
    for (const workflow of WORKFLOWS) expect(demo.output).toContain(workflow);
    expect(demo.output).toMatch(/422 GUARD_FAILED/);
    expect(demo.output).toMatch(/\/data\/word_count must be > 100/);
    // The automation worker of npm start fires the demo's timed transition by itself.
    expect(demo.output).toMatch(/fired by itself: now in reminded .*triggeredBy "timer"/);

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
    const keyBefore = h.adminKey();
    const { launcher, readyMs } = await startLauncher();
    expect(readyMs).toBeLessThan(30_000);
    // The same root credential, not printed again.
    expect(h.adminKey()).toBe(keyBefore);
    expect(launcher.lines.join('\n')).not.toContain(keyBefore);
    expect(launcher.lines.join('\n')).toContain(`root key  in ${join(dataDir, 'admin-key')}`);
    // The same NATS passwords: the first start's file is reused, not replaced.
    expect(readFileSync(join(dataDir, 'nats-credentials.json'), 'utf8')).toBe(credentials);

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
    const result = await runDemo(`http://127.0.0.1:${await freePort()}`, dataDir);
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
      // The killed worker's partitions move once its leases lapse (PROJECTION_LEASE_TTL_MS, 2 s).
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
      h.forget(launcher);

      const log = launcher.lines.slice(from);
      expect(launcher.lines.filter((l) => /second signal/.test(l))).toEqual([]);
      const at = (pattern: RegExp): number[] =>
        log.flatMap((line, i) => (pattern.test(line) ? [i] : []));
      for (const name of SERVICES) {
        expect([name, at(new RegExp(`^launcher\\s+stopping ${name}…`)).length]).toEqual([name, 1]);
        const clean = at(new RegExp(`^launcher\\s+${name} stopped \\(code 0,`)).length;
        // On a failure, the child's last lines say why it did not stop cleanly (seen once under
        // the full suite's load: the gateway).
        const tail =
          clean === 1
            ? ''
            : log.filter((l) => l.startsWith(name) || l.includes(` ${name} `)).slice(-12);
        expect([name, clean, tail]).toEqual([name, 1, '']);
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
      h.forget(launcher);
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

/** The demo as a user runs it: the credential from the launcher's data dir. */
function runDemo(
  gateway: string,
  dataDir: string,
): Promise<{ code: number | null; output: string }> {
  return runNode(['--import', 'tsx', 'tools/demo/demo.ts'], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CB_URL: gateway,
    CB_DATA_DIR: dataDir,
    NO_COLOR: '1',
  });
}
