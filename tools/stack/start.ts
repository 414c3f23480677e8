/**
 * `npm start`: the whole stack on one machine. Builds the console when its build is missing or
 * stale (`buildConsole`), then starts nats-server (unless NATS_URL is set), the
 * command service, two projection workers, one automation worker and the gateway, waits until
 * each is ready and prints
 * the URLs. It then supervises them: a child that dies is logged and restarted with back-off (see
 * `Supervised`), the others keep running. Ctrl-C (SIGINT, to the launcher alone or to its whole
 * process group, as a terminal sends it), SIGTERM or SIGHUP stops the children once each, in
 * order: the gateway, the automation and projection workers, the command service, nats-server
 * last. Ctrl-C again
 * while stopping (more than a second later: npm and tsx forward the first one too) kills them all
 * at once.
 *
 * Launcher options (environment): CB_DATA_DIR (default `.data` in the repository) holds the
 * nats-server store in `<CB_DATA_DIR>/nats`; NATS_PORT (default 4222, or a free port if 4222 is
 * taken) is the port of that nats-server. Both are ignored when NATS_URL is set.
 * CB_ADMIN_KEY, the root credential, goes to the gateway when set; unset, the launcher generates
 * one on first start, keeps it in `<CB_DATA_DIR>/admin-key` (mode 0600) and prints it (see
 * `resolveAdminKey`); `npm run demo` reads it from there.
 * CB_LOCAL_CLUSTER=3 (or 5) runs that many nats-server nodes instead, clustered on loopback
 * (`localCluster`): stores in `<CB_DATA_DIR>/nats-<i>`, client ports from NATS_PORT on, and the
 * services get NATS_URL listing every node and CB_STREAM_REPLICAS=3 (5) unless it is set. Each
 * node is supervised like the single server; Ctrl-C stops them, all at once, after the services.
 *
 * Its own nats-server (or cluster) runs `<CB_DATA_DIR>/nats-server.conf` (`natsServerConfig`, as
 * docker/nats-server.conf): each service connects as its own NATS user, with the passwords of
 * `<CB_DATA_DIR>/nats-credentials.json` (mode 0600; random, made on first start, reused after).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { findNatsServerBinary, freePort } from '@cb/ops';
import { adminKeyBanner, resolveAdminKey, type AdminKey } from './admin-key';
import type { LineSink } from './children';
import { parseLocalCluster } from './local-cluster';
import {
  loadOrCreateNatsCredentials,
  namingFromEnv,
  natsPasswordEnv,
  writeNatsConfig,
  type NatsCredentials,
} from './nats-credentials';
import { localCluster, singleServer, type NatsCommon, type NatsPlan } from './nats-children';
import { Supervised, type ChildSpec } from './supervisor';
import { isPortFree, waitForReady } from './wait';

const ROOT = resolve(__dirname, '../..');
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 8_000;
/**
 * If the launcher is SIGKILLed, nats-server gets SIGTERM once the services have exited (the pids
 * in `<CB_DATA_DIR>/services.pids`), at most this long after them.
 */
const ORPHAN_NATS_DELAY_MS = 10_000;
/** A signal repeated within this long is the same Ctrl-C, forwarded by npm or tsx. */
const SAME_SIGNAL_MS = 1000;

const colors = [36, 33, 35, 32, 34, 31];
const sink: LineSink = (name, line) => {
  const color = colors[[...name].reduce((a, c) => a + c.charCodeAt(0), 0) % colors.length];
  const prefix = process.stdout.isTTY ? `\x1b[${color}m${name.padEnd(12)}\x1b[0m` : name.padEnd(12);
  process.stdout.write(`${prefix} ${line}\n`);
};

/** A port from the environment: undefined when unset or empty, else an integer in [min, 65535]. */
function portOf(name: string, min: number): number | undefined {
  const raw = process.env[name]?.trim();
  if (!raw) return undefined;
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    console.error(
      `${name}=${JSON.stringify(raw)} is invalid: expected a port number from ${min} to 65535`,
    );
    process.exit(2);
  }
  return port;
}

/** A service of ours: `node --import tsx <entry>`, ready when `readyUrl` answers 200. */
function serviceSpec(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  readyUrl: string,
): ChildSpec {
  return {
    name,
    command: process.execPath,
    args: ['--import', 'tsx', resolve(ROOT, entry)],
    env,
    readyAt: readyUrl,
    ready: (child) => waitForReady(readyUrl, READY_TIMEOUT_MS, () => child.running),
  };
}

/**
 * The console (served by the gateway at /console) is built first when its build is missing or
 * older than its sources (tools/console/build-if-stale.mjs). A failed build is reported and the
 * stack starts all the same: the API works, and /console says how to build it.
 */
function buildConsole(): void {
  const run = spawnSync(process.execPath, [resolve(ROOT, 'tools/console/build-if-stale.mjs')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (run.status !== 0) {
    sink('launcher', 'the console was not built: /console answers 503 until it is (see above)');
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const gatewayPort = portOf('GATEWAY_PORT', 1) ?? 3000;
  const natsPort = portOf('NATS_PORT', 1);
  buildConsole();
  const dataRoot = resolve(env.CB_DATA_DIR?.trim() || resolve(ROOT, '.data'));
  const natsDataDir = resolve(dataRoot, 'nats');
  const servicePidFile = resolve(dataRoot, 'services.pids');
  let admin: AdminKey;
  try {
    admin = resolveAdminKey(env, dataRoot);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  let natsUrl = env.NATS_URL?.trim() || '';
  const ownNats = !natsUrl;
  const local = parseLocalCluster(env.CB_LOCAL_CLUSTER);
  if ('error' in local) {
    console.error(local.error);
    process.exit(2);
  }
  const clusterSize = local.nodes;
  if (clusterSize > 1 && !ownNats) {
    console.error(
      `CB_LOCAL_CLUSTER=${clusterSize} starts nats-server nodes of its own, but NATS_URL names servers to use: unset one of them`,
    );
    process.exit(2);
  }
  /** CB_STREAM_REPLICAS for the services, when the launcher chooses it. */
  let replicas: string | undefined;
  /** The NATS lines of the ready message. */
  const natsBanner: string[] = [];
  /** The NATS users' passwords, when the launcher runs NATS. */
  let credentials: NatsCredentials | undefined;
  // The children's handles do not keep the launcher alive (their watchdogs are unref'd): this does.
  setInterval(() => undefined, 1 << 30);

  /** In stop order: gateway, automation and projection workers, command service, nats-server. */
  const stages: Supervised[][] = [];
  const all = (): Supervised[] => stages.flat();
  const services: Supervised[] = [];
  const servicesChanged = (): void => {
    if (!ownNats) return;
    const pids = services.flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
    writeFileSync(servicePidFile, `${pids.join('\n')}\n`);
  };
  let stopping: Promise<never> | undefined;
  let stoppingSince = 0;
  const stopAll = (code: number): Promise<never> =>
    (stopping ??= (async () => {
      stoppingSince = performance.now();
      for (const stage of stages) await Promise.all(stage.map((s) => s.stop(STOP_GRACE_MS)));
      if (ownNats) rmSync(servicePidFile, { force: true });
      sink('launcher', 'stopped');
      process.exit(code);
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) {
      sink('launcher', `${signal}: stopping every service, nats-server last…`);
      void stopAll(0);
    } else if (performance.now() - stoppingSince < SAME_SIGNAL_MS) {
      sink('launcher', `${signal} again: the same Ctrl-C, forwarded; still stopping in order`);
    } else {
      sink('launcher', `${signal} again: killing every process now`);
      for (const s of all()) s.kill();
      process.exit(1);
    }
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);

  if (ownNats) {
    const binary = findNatsServerBinary();
    if (!binary) {
      console.error(
        'nats-server was not found on PATH or in /usr/sbin. Install it (`apt-get install nats-server` or ' +
          '`brew install nats-server`), set NATS_URL to an existing server, or use `docker compose -f docker/compose.yaml up`.',
      );
      process.exit(1);
    }
    rmSync(servicePidFile, { force: true });
    mkdirSync(dataRoot, { recursive: true });
    let credentialsFile: string;
    try {
      const loaded = loadOrCreateNatsCredentials(dataRoot);
      credentials = loaded.credentials;
      credentialsFile = loaded.file;
      if (loaded.created)
        sink('launcher', `NATS passwords generated in ${loaded.file} (mode 0600)`);
    } catch (err) {
      console.error((err as Error).message);
      process.exit(1);
    }
    const common: NatsCommon = {
      binary,
      env: { ...env, ...natsPasswordEnv(credentials) },
      orphanTermDelayMs: ORPHAN_NATS_DELAY_MS,
      outliveFile: servicePidFile,
      configFile: writeNatsConfig(dataRoot, namingFromEnv(env)),
    };
    natsBanner.push(
      `  NATS users command, projection, gateway, automation, admin (passwords in ${credentialsFile})`,
    );
    let plan: NatsPlan;
    if (clusterSize === 1) {
      if (natsPort !== undefined && !(await isPortFree(natsPort))) {
        // Otherwise the services would silently use whatever server already listens there.
        console.error(
          `NATS_PORT=${natsPort} is taken by another process: choose a free port, unset NATS_PORT, or set NATS_URL to use that server`,
        );
        process.exit(1);
      }
      const port = natsPort ?? ((await isPortFree(4222)) ? 4222 : await freePort());
      mkdirSync(natsDataDir, { recursive: true });
      plan = singleServer(common, port, natsDataDir);
    } else {
      // R3 (R5) unless CB_STREAM_REPLICAS says otherwise: what the cluster is for.
      replicas = env.CB_STREAM_REPLICAS?.trim() || String(clusterSize);
      const cluster = await localCluster(common, clusterSize, dataRoot, {
        firstPort: natsPort,
        taken: new Set([gatewayPort]),
        replicas,
      });
      if (typeof cluster === 'string') {
        console.error(cluster);
        process.exit(1);
      }
      plan = cluster;
    }
    natsBanner.unshift(...plan.banner);
    // A restart comes back on the same ports and store.
    const nats = plan.specs.map((spec) => new Supervised(spec, sink));
    stages.unshift(nats);
    try {
      await Promise.all(nats.map((n) => n.start()));
    } catch (err) {
      sink('launcher', `nats-server did not start: ${(err as Error).message}`);
      await stopAll(1);
    }
    natsUrl = plan.url;
  }
  // A signal during the start: stop what runs, start nothing more.
  if (stopping) await stopping;

  const base: NodeJS.ProcessEnv = {
    ...env,
    NATS_URL: natsUrl,
    ...(replicas ? { CB_STREAM_REPLICAS: replicas } : {}),
  };
  // The root credential goes to the gateway alone (below).
  delete base.CB_ADMIN_KEY;
  /**
   * A service on `port` (its `portVariable`), ready when `/ready` there answers 200; on the
   * launcher's NATS as its own user.
   */
  const service = (
    name: string,
    entry: string,
    portVariable: string,
    port: number,
    user: 'command' | 'projection' | 'gateway' | 'automation',
    extra: NodeJS.ProcessEnv = {},
  ): Supervised =>
    new Supervised(
      serviceSpec(
        name,
        entry,
        {
          ...base,
          [portVariable]: String(port),
          ...(credentials ? { NATS_USER: user, NATS_PASSWORD: credentials[user] } : {}),
          ...extra,
        },
        `http://127.0.0.1:${port}/ready`,
      ),
      sink,
      servicesChanged,
    );
  const command = service(
    'command',
    'apps/command-service/src/main.ts',
    'COMMAND_HTTP_PORT',
    await freePort(),
    'command',
  );
  const projections: Supervised[] = [];
  const projectionEntry = 'apps/projection-service/src/main.ts';
  if (existsSync(resolve(ROOT, projectionEntry))) {
    for (const n of [1, 2]) {
      projections.push(
        service(
          `projection-${n}`,
          projectionEntry,
          'PROJECTION_HTTP_PORT',
          await freePort(),
          'projection',
        ),
      );
    }
  }
  const automation = service(
    'automation',
    'apps/automation-service/src/main.ts',
    'AUTOMATION_HTTP_PORT',
    await freePort(),
    'automation',
  );
  // Only the gateway holds the root credential.
  const gateway = service(
    'gateway',
    'apps/query-gateway/src/main.ts',
    'GATEWAY_PORT',
    gatewayPort,
    'gateway',
    { CB_ADMIN_KEY: admin.key },
  );
  services.push(command, ...projections, automation, gateway);
  if (stopping) await stopping;
  stages.unshift([gateway], [automation, ...projections], [command]);
  // On a cluster, nats-server 2.9 leaves one of two concurrent creates of the same replicated
  // stream or bucket unanswered now and then (3 in 40 measured): that service's start times out
  // and it exits. There the command service creates the stream and shared buckets, then the
  // first projection worker the read models, before the others start and find them.
  const [first, ...others] = projections;
  const waves =
    clusterSize > 1
      ? [[command], first ? [first] : [], [...others, automation, gateway]]
      : [[command, ...projections, automation, gateway]];
  try {
    for (const wave of waves) {
      await Promise.all(wave.map((s) => s.start()));
      if (stopping) await stopping;
    }
  } catch (err) {
    sink('launcher', `the stack did not become ready: ${(err as Error).message}`);
    await stopAll(1);
  }
  const url = `http://localhost:${gatewayPort}`;
  console.log(
    [
      '',
      'Circuit Breaker is ready.',
      `  gateway   ${url}`,
      `  console   ${url}/console/`,
      `  API docs  ${url}/docs`,
      ...(ownNats ? natsBanner : [`  NATS      ${natsUrl}`]),
      ...adminKeyBanner(admin),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

void main();
