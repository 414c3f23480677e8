/**
 * The Docker deployment cannot run here (no container engine), so this checks what can be checked
 * without one: the structure of compose.yaml and the Dockerfile, that every variable the compose
 * file sets is one the service reads (and valid for it), the image's entrypoint and health check
 * scripts, and that the bundles only need production dependencies. When a docker-compose (or
 * `docker compose`) binary is present, `config -q` must accept the file too.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TObject } from '@sinclair/typebox';
import { parse } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- the services' environment schemas are the
   contract the compose file must honour; importing them is the point of this check */
import { CommandServiceEnv, loadCommandServiceConfig } from '../apps/command-service/src/config';
import { ProjectionEnv, loadProjectionConfig } from '../apps/projection-service/src/config';
import { AutomationEnv, loadAutomationConfig } from '../apps/automation-service/src/config';
import { GatewayEnv, loadGatewayConfig } from '../apps/query-gateway/src/config';
/* eslint-enable @nx/enforce-module-boundaries */

const DIR = __dirname;
const ROOT = join(DIR, '..');

interface ServicesModule {
  SERVICES: Record<
    string,
    { bundle: string; portVar: string; hostVar: string; defaultPort: number }
  >;
  canonical(name: string): string | undefined;
  argumentOf(cmdline: string): string | undefined;
  readyUrl(name: string, env: Record<string, string | undefined>): string;
}
const services = createRequire(__filename)('./services.cjs') as ServicesModule;

type Env = Record<string, string>;
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Env;
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; start_period?: string };
  restart?: string;
  stop_grace_period?: string;
  container_name?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(join(DIR, 'compose.yaml'), 'utf8'), {
  merge: true,
}) as ComposeFile;

/** Each service the image runs: its environment schema and its configuration loader. */
const APPS: Record<string, { schema: TObject; load: (env: Env) => unknown; replicas: number }> = {
  'command-service': { schema: CommandServiceEnv, load: loadCommandServiceConfig, replicas: 2 },
  'projection-service': { schema: ProjectionEnv, load: loadProjectionConfig, replicas: 3 },
  'automation-service': { schema: AutomationEnv, load: loadAutomationConfig, replicas: 2 },
  'query-gateway': { schema: GatewayEnv, load: loadGatewayConfig, replicas: 1 },
};

const natsNodes = Object.keys(compose.services).filter((name) =>
  compose.services[name]!.image?.startsWith('nats:'),
);
/** compose service name → the app it runs (by its command). */
const appServices = Object.entries(compose.services).flatMap(([name, svc]) => {
  const app = services.canonical(svc.command?.[0] ?? '');
  return app && APPS[app] ? [{ name, svc, app }] : [];
});

/** `--flag=value` or `--flag value` (also with one dash) from a command line. */
function flag(command: string[], ...names: string[]): string | undefined {
  for (let i = 0; i < command.length; i++) {
    const arg = command[i]!;
    for (const name of names) {
      if (arg === name) return command[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return undefined;
}

/**
 * What compose makes of `${VAR:-default}` when VAR is unset; a required `${VAR:?message}` (compose
 * refuses to start without it) stands for a value the operator sets.
 */
function interpolateDefaults(value: string): string {
  return (
    value
      // A secret the operator sets: long enough for every length rule (CB_ADMIN_KEY: 32+).
      .replace(/\$\{[A-Z0-9_]+:\?[^}]*\}/g, 'set-by-the-operator-0123456789abcdefghijklmn')
      .replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_m, fallback?: string) => fallback ?? '')
  );
}

function schemaDefault(schema: TObject, variable: string): unknown {
  return (schema.properties[variable] as { default?: unknown } | undefined)?.default;
}

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`unexpected duration ${duration}`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
}

describe('docker/compose.yaml: NATS', () => {
  it('runs three JetStream nodes on a pinned nats-server >= 2.10', () => {
    expect(natsNodes.sort()).toEqual(['nats-1', 'nats-2', 'nats-3']);
    for (const name of natsNodes) {
      const svc = compose.services[name]!;
      const version = /^nats:(\d+)\.(\d+)\.(\d+)(-alpine[\d.]*)?$/.exec(svc.image ?? '');
      expect(version).not.toBeNull();
      const [major, minor] = [Number(version![1]), Number(version![2])];
      expect(major > 2 || (major === 2 && minor >= 10)).toBe(true);
      const command = svc.command ?? [];
      expect(command.some((a) => a === '-js' || a === '--jetstream')).toBe(true);
      expect(flag(command, '--name', '-n', '--server_name')).toBe(name);
    }
    expect(new Set(natsNodes.map((n) => compose.services[n]!.image)).size).toBe(1);
  });

  it('clusters the nodes: one cluster name, routes from each node to the other two', () => {
    const clusterNames = natsNodes.map((n) =>
      flag(compose.services[n]!.command ?? [], '--cluster_name'),
    );
    expect(clusterNames[0]).toBeTruthy();
    expect(new Set(clusterNames).size).toBe(1);
    for (const name of natsNodes) {
      const command = compose.services[name]!.command ?? [];
      const listen = new URL(flag(command, '--cluster') ?? '');
      const routes = (flag(command, '--routes') ?? '').split(',').map((r) => new URL(r.trim()));
      expect(routes.map((r) => r.hostname).sort()).toEqual(natsNodes.filter((n) => n !== name));
      for (const route of routes) expect(route.port).toBe(listen.port);
    }
  });

  it('keeps each store on its own named volume and checks health on the monitoring port', () => {
    const used = new Set<string>();
    for (const name of natsNodes) {
      const svc = compose.services[name]!;
      const storeDir = flag(svc.command ?? [], '--store_dir', '-sd');
      expect(storeDir).toBeTruthy();
      const mount = (svc.volumes ?? []).find((v) => v.split(':')[1] === storeDir);
      const volume = mount?.split(':')[0] ?? '';
      expect(volume).toMatch(/^[a-z0-9][a-z0-9_.-]*$/); // a named volume, not a host path
      expect(compose.volumes).toHaveProperty([volume]);
      expect(used.has(volume)).toBe(false);
      used.add(volume);

      const port = flag(svc.command ?? [], '--http_port', '-m');
      const test = svc.healthcheck?.test ?? [];
      expect(test[0]).toBe('CMD');
      expect(test).toContain('wget');
      expect(test.join(' ')).toContain(`:${port}/healthz?js-enabled-only=true`);
      expect(svc.restart).toBeTruthy();
      expect(svc.ports ?? []).toEqual([]);
    }
  });
});

describe('docker/compose.yaml: services', () => {
  it('runs 2 command services, 3 projection workers, 2 automation workers and one gateway from one image', () => {
    const replicas = Object.fromEntries(
      Object.keys(APPS).map((app) => [
        app,
        appServices
          .filter((s) => s.app === app)
          .reduce((n, s) => n + (s.svc.deploy?.replicas ?? 1), 0),
      ]),
    );
    expect(replicas).toEqual({
      'command-service': 2,
      'projection-service': 3,
      'automation-service': 2,
      'query-gateway': 1,
    });
    expect(Object.keys(compose.services).sort()).toEqual(
      [...natsNodes, ...appServices.map((s) => s.name)].sort(),
    );
    for (const { svc } of appServices) {
      expect(svc.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      expect(svc.container_name).toBeUndefined(); // it would prevent scaling
    }
    expect(new Set(appServices.map((s) => s.svc.image)).size).toBe(1);
  });

  it('sets only variables each service reads, with values it accepts', () => {
    for (const { name, svc, app } of appServices) {
      const env = svc.environment ?? {};
      const known = Object.keys(APPS[app]!.schema.properties);
      const unknown = Object.keys(env).filter((v) => !known.includes(v));
      expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
      const resolved = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, interpolateDefaults(String(v))]),
      );
      expect(() => APPS[app]!.load(resolved)).not.toThrow();
    }
  });

  it('connects every service to all three nodes with an R3 stream', () => {
    for (const { svc } of appServices) {
      const env = svc.environment ?? {};
      const urls = (env.NATS_URL ?? '').split(',').map((u) => new URL(u.trim()));
      expect(urls.map((u) => u.hostname).sort()).toEqual([...natsNodes].sort());
      expect(urls.every((u) => u.protocol === 'nats:' && u.port === '4222')).toBe(true);
      expect(env.CB_STREAM_REPLICAS).toBe('3');
    }
  });

  it('starts the services once NATS is healthy and checks their /ready', () => {
    for (const { name, svc, app } of appServices) {
      for (const node of natsNodes) {
        expect({ name, node, dep: svc.depends_on?.[node] }).toEqual({
          name,
          node,
          dep: { condition: 'service_healthy' },
        });
      }
      expect(svc.healthcheck?.test).toEqual(['CMD', 'node', '/app/docker/healthcheck.cjs']);
      expect(svc.restart).toMatch(/^(always|unless-stopped|on-failure(:\d+)?)$/);
      // SIGTERM first; SIGKILL only after the service had its graceful shutdown time.
      const shutdownMs = Number(
        svc.environment?.SHUTDOWN_TIMEOUT_MS ??
          schemaDefault(APPS[app]!.schema, 'SHUTDOWN_TIMEOUT_MS'),
      );
      expect(seconds(svc.stop_grace_period ?? '10s') * 1000).toBeGreaterThan(shutdownMs);
    }
    const gateway = appServices.find((s) => s.app === 'query-gateway')!.svc;
    for (const other of appServices.filter((s) => s.app !== 'query-gateway')) {
      expect(gateway.depends_on?.[other.name]).toEqual({ condition: 'service_healthy' });
    }
  });

  it('publishes only the gateway port', () => {
    const published = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).length);
    expect(published.map(([n]) => n)).toEqual(
      appServices.filter((s) => s.app === 'query-gateway').map((s) => s.name),
    );
    const gateway = published[0]![1];
    const containerPort = gateway.environment?.GATEWAY_PORT ?? '3000';
    expect(gateway.ports).toEqual([`\${GATEWAY_PORT:-3000}:${containerPort}`]);
  });
});

describe('docker/services.cjs (entrypoint and health check)', () => {
  it('knows each service by the health port variable and default of its config schema', () => {
    expect(Object.keys(services.SERVICES).sort()).toEqual(Object.keys(APPS).sort());
    for (const [name, s] of Object.entries(services.SERVICES)) {
      const schema = APPS[name]!.schema;
      expect(schemaDefault(schema, s.portVar)).toBe(s.defaultPort);
      expect(schema.properties).toHaveProperty([s.hostVar]);
    }
    expect(services.readyUrl('query-gateway', {})).toBe('http://127.0.0.1:3000/ready');
    expect(
      services.readyUrl('command-service', { COMMAND_HTTP_PORT: '9200', COMMAND_HTTP_HOST: '::' }),
    ).toBe('http://127.0.0.1:9200/ready');
    expect(services.argumentOf('node\0/app/docker/entrypoint.cjs\0gateway\0')).toBe('gateway');
    expect(
      services.argumentOf('/sbin/docker-init\0--\0node\0/app/docker/entrypoint.cjs\0command\0'),
    ).toBe('command');
    expect(services.argumentOf('node\0/app/docker/entrypoint.cjs\0')).toBeUndefined();
  });

  let server: Server;
  let status = 200;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url === '/ready' ? status : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Run a script of docker/ and return its exit code and stderr. */
  function run(
    script: string,
    args: string[],
    env: Env,
  ): Promise<{ code: number; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(DIR, script), ...args],
        { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 },
        (err, _stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, stderr });
        },
      );
    });
  }

  it('healthcheck.cjs exits 0 only when /ready answers 200', async () => {
    const port = String((server.address() as AddressInfo).port);
    status = 200;
    expect((await run('healthcheck.cjs', ['gateway'], { GATEWAY_PORT: port })).code).toBe(0);
    expect(
      (
        await run('healthcheck.cjs', [], {
          SERVICE: 'projection-service',
          PROJECTION_HTTP_PORT: port,
        })
      ).code,
    ).toBe(0);
    status = 503;
    const notReady = await run('healthcheck.cjs', ['query-gateway'], { GATEWAY_PORT: port });
    expect(notReady.code).toBe(1);
    expect(notReady.stderr).toMatch(/answered 503/);
    const unknown = await run('healthcheck.cjs', ['nope'], {});
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown service "nope"/);
  });

  it('entrypoint.cjs refuses a missing or unknown service, naming the choices', async () => {
    const none = await run('entrypoint.cjs', [], {});
    expect(none.code).toBe(64);
    expect(none.stderr).toMatch(
      /no service given: pass one of command-service, projection-service/,
    );
    const unknown = await run('entrypoint.cjs', [], { SERVICE: 'web' });
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toMatch(/unknown service "web"/);
  });
});

describe('docker/Dockerfile', () => {
  /** Instructions (continuations joined, comments dropped), grouped by stage. */
  const stages: { from: string; name?: string; lines: string[] }[] = [];
  const args: Env = {};
  for (const line of readFileSync(join(DIR, 'Dockerfile'), 'utf8')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    const arg = /^ARG\s+(\w+)=(\S+)/i.exec(line);
    if (from) {
      const image = from[1]!.replace(/\$\{(\w+)\}/g, (_m, v: string) => args[v] ?? '');
      stages.push({ from: image, name: from[2], lines: [] });
    } else if (arg && stages.length === 0) {
      args[arg[1]!] = arg[2]!;
    } else {
      stages.at(-1)?.lines.push(line);
    }
  }
  const runtime = stages.at(-1)!;
  const instruction = (keyword: string) =>
    runtime.lines.filter((l) => l.toUpperCase().startsWith(`${keyword} `));

  it('builds in one stage and runs on a pinned node:20 slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((s) => s.lines.some((l) => /^RUN .*npm run build/.test(l)));
    expect(build).toBeDefined();
    expect(build).not.toBe(runtime);
    expect(runtime.from).toMatch(/^node:20\.\d+\.\d+-(bookworm-|bullseye-)?slim$/);
    // The runtime stage carries the bundles, not the sources.
    expect(runtime.lines.some((l) => /^COPY --from=\S+ \S*dist/.test(l))).toBe(true);
    expect(runtime.lines.some((l) => /^COPY (apps|libs|\.)\s/.test(l))).toBe(false);
  });

  it('installs production dependencies only for the runtime', () => {
    const modules = runtime.lines.find((l) => /^COPY .*node_modules/.test(l));
    const source = /--from=(\S+)/.exec(modules ?? '')?.[1];
    const stage = source === undefined ? runtime : stages.find((s) => s.name === source);
    expect(stage?.lines.some((l) => /^RUN npm (ci|install)\b.*--omit=dev/.test(l))).toBe(true);
  });

  it('runs node directly as a non-root user, with a health check and SIGTERM', () => {
    const user = instruction('USER').at(-1)?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    expect(instruction('STOPSIGNAL')).toEqual(['STOPSIGNAL SIGTERM']);
    expect(instruction('HEALTHCHECK').at(-1)).toMatch(
      /CMD \["node", "\/app\/docker\/healthcheck\.cjs"\]$/,
    );
    const entrypoint = JSON.parse(instruction('ENTRYPOINT').at(-1)!.slice('ENTRYPOINT '.length));
    expect(entrypoint).toEqual(['node', '/app/docker/entrypoint.cjs']);
    for (const script of ['services.cjs', 'entrypoint.cjs', 'healthcheck.cjs']) {
      expect(
        runtime.lines.some((l) => l.startsWith('COPY ') && l.includes(`docker/${script}`)),
      ).toBe(true);
    }
  });
});

describe('dependencies', () => {
  it('lists every package a bundle imports in package.json dependencies', async () => {
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(ROOT, 'tools/build/build.mjs'), '--check'],
        { cwd: ROOT, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? -1) : 0, output: stdout + stderr }),
      );
    });
    expect(result).toEqual({ code: 0, output: expect.stringContaining('nothing written') });
  });
});

/** A docker-compose binary, if this machine has one (`docker compose` or `docker-compose`). */
function composeCommand(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(command[0]!, [...command.slice(1), 'version'], {
      stdio: 'ignore',
      timeout: 15_000,
    });
    if (probe.status === 0) return command;
  }
  return undefined;
}

const composeBinary = composeCommand();
if (!composeBinary) {
  process.stderr.write(
    'docker/compose.spec.ts: no docker-compose or `docker compose` binary: skipping `config -q`\n',
  );
}

(composeBinary ? describe : describe.skip)('docker-compose config', () => {
  it('accepts compose.yaml', () => {
    const [bin, ...pre] = composeBinary!;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.GATEWAY_PORT;
    delete env.LOG_LEVEL;
    // The secrets compose requires (docker/nats-server-conf.spec.ts checks they are required).
    for (const v of [
      'CB_NATS_COMMAND_PASSWORD',
      'CB_NATS_PROJECTION_PASSWORD',
      'CB_NATS_GATEWAY_PASSWORD',
      'CB_NATS_ADMIN_PASSWORD',
      'CB_JS_ENCRYPTION_KEY',
      'CB_ADMIN_KEY',
    ]) {
      env[v] = `test-${v.toLowerCase()}`;
    }
    const result = spawnSync(bin!, [...pre, '-f', join(DIR, 'compose.yaml'), 'config', '-q'], {
      encoding: 'utf8',
      env,
      timeout: 30_000,
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 0,
      stderr: expect.any(String),
    });
  });
});
