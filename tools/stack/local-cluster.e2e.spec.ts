import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createServer, type AddressInfo } from 'node:net';
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
import { loadOrCreateNatsCredentials } from './nats-credentials';
import { isPortFree } from './wait';

/*
 * `CB_LOCAL_CLUSTER=3 npm start`: the launcher as a real process (see LauncherHarness) running a
 * three-node JetStream cluster on loopback, R3 streams and buckets.
 */

const NODES = ['nats-1', 'nats-2', 'nats-3'];
const SERVICES = ['command', 'projection-1', 'projection-2', 'gateway'];
/** The election takes 4.4–8.5 s on nats-server 2.9.10 (libs/testing, startTestCluster). */
const WRITES_AGAIN_WITHIN_MS = 20_000;

/** A port whose next `count - 1` ports are free too. */
async function freePortRun(count: number): Promise<number> {
  for (;;) {
    const first = await freePort();
    if (first + count - 1 > 65535) continue;
    const next = Array.from({ length: count - 1 }, (_, i) => first + i + 1);
    if ((await Promise.all(next.map(isPortFree))).every(Boolean)) return first;
  }
}

describe('npm start with CB_LOCAL_CLUSTER=3', () => {
  let h: LauncherHarness;
  let launcher: Launcher;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let natsPort: number;
  let tokenVersion = 0;

  beforeAll(async () => {
    natsPort = await freePortRun(3);
    h = await LauncherHarness.create({ CB_LOCAL_CLUSTER: '3', NATS_PORT: String(natsPort) });
  });

  afterAll(async () => {
    await nc?.close();
    await h?.cleanup();
  });

  const tokens = '/v1/workflows/document_review/tokens';

  it('starts three clustered nodes, each on its own store, and the stack on R3 streams serves writes and reads', async () => {
    ({ launcher } = await h.start());
    const pids = launcher.pids();
    const tree = descendants(launcher.proc.pid);
    const url = [0, 1, 2].map((i) => `nats://127.0.0.1:${natsPort + i}`).join(',');
    const log = launcher.lines.join('\n');
    expect(log).toContain(`NATS      ${url}`);
    expect(log).toContain(
      'a 3-node JetStream cluster (cb-local) on loopback, streams and buckets R3',
    );
    for (const [i, name] of NODES.entries()) {
      expect(tree.get(pids.get(name)!)).toEqual(
        expect.stringContaining(' --cluster_name cb-local'),
      );
      const cmdline = tree.get(pids.get(name)!)!;
      expect(cmdline).toContain(`-p ${natsPort + i} -n ${name} -js -sd ${join(h.dataDir, name)}`);
      expect(cmdline.match(/--routes (\S+)/)?.[1]?.split(',')).toHaveLength(2);
      expect(log).toMatch(
        new RegExp(`${name}  nats://127\\.0\\.0\\.1:${natsPort + i}  monitoring`),
      );
    }
    for (const name of SERVICES) expect(tree.has(pids.get(name)!)).toBe(true);

    // The launcher's NATS has users (nats-credentials.json): look as the admin.
    const { credentials } = loadOrCreateNatsCredentials(h.dataDir);
    nc = await connect({
      servers: url,
      user: 'admin',
      pass: credentials.admin,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    jsm = await jetstreamManager(nc);
    for (const stream of ['CB_EVENTS', 'CB_EVENTS_DLQ', 'KV_cb_meta', 'KV_cb_tokens_1']) {
      const info = await jsm.streams.info(stream);
      expect({ stream, replicas: info.config.num_replicas }).toEqual({ stream, replicas: 3 });
    }

    const defined = await h.json('/v1/workflows', {
      method: 'POST',
      body: loadFixtureWorkflow('document-review'),
    });
    expect(defined.status).toBe(201);
    expect((await h.json(tokens, { method: 'POST', body: { id: 'ha-1' } })).status).toBe(201);
    const fired = await h.json<{ version: number }>(`${tokens}/ha-1/fire`, {
      method: 'POST',
      body: { transition: 'submit' },
    });
    expect(fired.status).toBe(200);
    tokenVersion = fired.body.version;
    expect(await h.json(`${tokens}/ha-1?consistency=strong`)).toMatchObject({
      status: 200,
      body: { version: tokenVersion, place: 'pending_review' },
    });
    await waitFor(
      async () => (await h.json(`/v1/tokens/ha-1?minSeq=${tokenVersion}`)).status === 200,
      { timeoutMs: 20_000, intervalMs: 100, description: 'ha-1 projected' },
    );
  }, 90_000);

  it(`a SIGKILLed stream leader is restarted on its store and catches up; writes work again within ${WRITES_AGAIN_WITHIN_MS / 1000} s`, async () => {
    const before = launcher.pids();
    const leader = (await jsm.streams.info('CB_EVENTS')).cluster!.leader!;
    expect(NODES).toContain(leader);
    const cmdline = descendants(launcher.proc.pid).get(before.get(leader)!)!;
    const from = launcher.lines.length;
    const outage = new Map<string, number>();
    const t0 = Date.now();
    process.kill(before.get(leader)!, 'SIGKILL');
    await waitFor(
      async () => {
        const res = await h.json<{ version: number; code?: string }>(`${tokens}/ha-1`, {
          method: 'PATCH',
          body: { data: { after: 'node killed' } },
        });
        if (res.status === 200) return true;
        const key = `${res.status} ${res.body.code}`;
        outage.set(key, (outage.get(key) ?? 0) + 1);
        return false;
      },
      { timeoutMs: WRITES_AGAIN_WITHIN_MS, intervalMs: 200, description: 'a write to succeed' },
    );
    const writesMs = Date.now() - t0;
    expect([...outage.keys()].filter((k) => !/^50[34] [A-Z_]+$/.test(k))).toEqual([]);

    const [, pid, healthz] = await lineAfter(
      launcher,
      from,
      new RegExp(`^launcher\\s+${leader} is ready again \\(pid (\\d+), (\\S+)\\)`),
      60_000,
    );
    const rejoinedMs = Date.now() - t0;
    expect(Number(pid)).not.toBe(before.get(leader));
    expect(launcher.lines.slice(from)).toContainEqual(
      expect.stringMatching(
        new RegExp(`${leader} \\(pid \\d+\\) exited unexpectedly \\(signal SIGKILL\\)`),
      ),
    );
    // Same command line: same ports, name and store.
    expect(descendants(launcher.proc.pid).get(Number(pid))).toBe(cmdline);
    for (const name of [...NODES.filter((n) => n !== leader), ...SERVICES]) {
      expect([name, launcher.pids().get(name)]).toEqual([name, before.get(name)]);
    }
    // Ready again means /healthz 200, which needs its streams current: it holds every event.
    const last = (await jsm.streams.info('CB_EVENTS')).state.last_seq;
    const jsz = (await (await fetch(healthz!.replace('/healthz', '/jsz?streams=true'))).json()) as {
      account_details: Array<{
        stream_detail: Array<{ name: string; state: { last_seq: number } }>;
      }>;
    };
    const replica = jsz.account_details
      .flatMap((a) => a.stream_detail)
      .find((d) => d.name === 'CB_EVENTS');
    expect(replica?.state.last_seq).toBe(last);
    const strong = await h.json<{ version: number; data: Record<string, unknown> }>(
      `${tokens}/ha-1?consistency=strong`,
    );
    expect(strong).toMatchObject({ status: 200, body: { data: { after: 'node killed' } } });
    expect(strong.body.version).toBeGreaterThan(tokenVersion);
    console.log(
      `CB_LOCAL_CLUSTER=3: stream leader ${leader} SIGKILLed: writes again after ${writesMs} ms ` +
        `(meanwhile ${[...outage].map(([k, v]) => `${v} × ${k}`).join(', ') || 'none'}); ` +
        `the node restarted and current after ${rejoinedMs} ms`,
    );
  }, 120_000);

  it('SIGINT to the launcher’s process group stops the services first, then the three nodes', async () => {
    const pids = launcher.pids();
    const tree = descendants(launcher.proc.pid);
    const from = launcher.lines.length;
    launcher.proc.release();
    process.kill(-launcher.proc.pid, 'SIGINT');
    await waitFor(() => [launcher.proc.pid, ...tree.keys()].every((p) => !isAlive(p)), {
      timeoutMs: 30_000,
      intervalMs: 50,
      description: 'every process to exit',
    });
    expect(await launcher.proc.waitExit(5000)).toBe(true);
    expect(launcher.proc.exitCode).toBe(0);
    h.forget(launcher);
    const log = launcher.lines.slice(from);
    const index = (pattern: RegExp): number => log.findIndex((line) => pattern.test(line));
    const commandStopped = index(/^launcher\s+command stopped \(code 0,/);
    expect(commandStopped).toBeGreaterThan(0);
    for (const node of NODES) {
      expect(index(new RegExp(`^launcher\\s+stopping ${node}…`))).toBeGreaterThan(commandStopped);
      expect(index(new RegExp(`^launcher\\s+${node} stopped \\(code 0,`))).toBeGreaterThan(
        commandStopped,
      );
    }
    expect(log.at(-1)).toMatch(/^launcher\s+stopped/);
    expect([...pids.values()].filter(isAlive)).toEqual([]);
    expect(natsServersFor(h.dataDir)).toEqual([]);
  }, 60_000);

  it('refuses CB_LOCAL_CLUSTER other than 1, 3 or 5, with NATS_URL, or with a taken port in NATS_PORT’s range', async () => {
    const start = ['--import', 'tsx', 'tools/stack/start.ts'];
    for (const value of ['2', '4', 'three', '7']) {
      const result = await runNode(start, { ...h.env, CB_LOCAL_CLUSTER: value });
      expect({ value, code: result.code }).toEqual({ value, code: 2 });
      expect(result.output).toContain(
        `CB_LOCAL_CLUSTER="${value}" is invalid: expected 3 or 5 (nodes of a local JetStream cluster`,
      );
    }
    const withUrl = await runNode(start, { ...h.env, NATS_URL: 'nats://127.0.0.1:1' });
    expect(withUrl.code).toBe(2);
    expect(withUrl.output).toContain(
      'CB_LOCAL_CLUSTER=3 starts nats-server nodes of its own, but NATS_URL names servers to use',
    );
    // Something listens on NATS_PORT + 1.
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const taken = await runNode(start, { ...h.env, NATS_PORT: String(port - 1) });
      expect(taken.code).toBe(1);
      expect(taken.output).toContain(
        `NATS_PORT=${port - 1}: with CB_LOCAL_CLUSTER=3 the nodes listen on ports ${port - 1} to ${port + 1}, and `,
      );
      expect(taken.output).toMatch(new RegExp(`and (\\d+, )*${port}(, \\d+)* (is|are) not free`));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  }, 60_000);
});
