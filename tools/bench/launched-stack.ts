import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectionOptions } from '@nats-io/transport-node';
import { inboxPrefixOf, type NatsUser } from '@cb/nats';
import { DEFAULT_NAMING, Naming } from '@cb/subjects';
import { CREDENTIALS_FILE, type NatsCredentials } from '../stack/nats-credentials';
import { LauncherHarness, descendants, type Launcher } from '../stack/launcher-harness';
import type { NamedProcess } from './process-cpu';

/** How long the launcher may take to stop its children in order before they are killed. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The stack exactly as `npm start` runs it: the launcher itself (`tools/stack/start.ts` under
 * tsx) with a temporary CB_DATA_DIR and free ports, every other setting at its default —
 * nats-server with the generated permissions, the command service, two projection workers and
 * the gateway, authentication and rate limits on, the root credential it generates.
 */
export interface LaunchedStack {
  /** `http://127.0.0.1:<port>` of the gateway. */
  readonly gateway: string;
  readonly gatewayPort: number;
  /** `Bearer <root credential>` from `<CB_DATA_DIR>/admin-key`. */
  readonly rootAuthorization: string;
  /** The services' naming (the default: the launcher sets none). */
  readonly naming: Naming;
  /** Connection options of a NATS user, with the password the launcher generated. */
  natsAs(user: NatsUser): ConnectionOptions;
  /** The launcher and every process of the stack, found among its descendants. */
  processes(): NamedProcess[];
  /** The launcher's last `n` lines (its own and its children's), to say why something failed. */
  tail(n: number): string;
  stop(): Promise<void>;
}

/** A service of the stack by the entry point on its command line (`node --import tsx <entry>`). */
const SERVICES: Array<[RegExp, string]> = [
  [/apps\/query-gateway\/src\/main\.ts/, 'gateway'],
  [/apps\/command-service\/src\/main\.ts/, 'command'],
  [/apps\/projection-service\/src\/main\.ts/, 'projection'],
];

export async function launchStack(): Promise<LaunchedStack> {
  // LOG_LEVEL as the services default it: the harness would quieten them to warn.
  const harness = await LauncherHarness.create({ LOG_LEVEL: 'info' });
  let launcher: Launcher;
  try {
    ({ launcher } = await harness.start());
  } catch (err) {
    await harness.cleanup();
    throw err;
  }
  const passwords = JSON.parse(
    readFileSync(join(harness.dataDir, CREDENTIALS_FILE), 'utf8'),
  ) as NatsCredentials;
  const natsUrl = `nats://127.0.0.1:${harness.env.NATS_PORT}`;
  return {
    gateway: harness.gateway,
    gatewayPort: Number(new URL(harness.gateway).port),
    rootAuthorization: `Bearer ${harness.adminKey()}`,
    naming: new Naming(DEFAULT_NAMING),
    natsAs: (user) => ({
      servers: natsUrl,
      user,
      pass: passwords[user],
      inboxPrefix: inboxPrefixOf(user),
    }),
    processes: () => stackProcesses(launcher),
    tail: (n) => launcher.lines.slice(-n).join('\n'),
    async stop() {
      launcher.proc.release();
      launcher.proc.kill('SIGTERM');
      if (await launcher.proc.waitExit(STOP_TIMEOUT_MS)) harness.forget(launcher);
      // Kills whatever is left (only after a failed stop) and removes the data dir.
      await harness.cleanup();
    },
  };
}

/**
 * The launcher, then its services and nats-server by their command lines (the watchdog shells
 * between them are left out); the projection workers are named as the launcher names them.
 */
function stackProcesses(launcher: Launcher): NamedProcess[] {
  const names = new Map([...launcher.pids()].map(([name, pid]) => [pid, name]));
  const found: NamedProcess[] = [];
  for (const [pid, args] of descendants(launcher.proc.pid)) {
    const program = args.split(' ')[0]!;
    if (/(^|\/)nats-server$/.test(program)) {
      found.push({ name: 'nats-server', pid });
    } else if (/(^|\/)node$/.test(program)) {
      const service = SERVICES.find(([entry]) => entry.test(args));
      if (service) found.push({ name: names.get(pid) ?? service[1], pid });
    }
  }
  const order = ['gateway', 'command', 'projection', 'nats-server'];
  const rank = (p: NamedProcess): number => order.findIndex((o) => p.name.startsWith(o));
  found.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  return [{ name: 'launcher', pid: launcher.proc.pid }, ...found];
}

/** `run` on a stack launched for it, stopped after; a failure shows the launcher's last lines. */
export async function withLaunchedStack<T>(run: (stack: LaunchedStack) => Promise<T>): Promise<T> {
  const stack = await launchStack();
  try {
    return await run(stack);
  } catch (err) {
    console.log(`--- the launcher's last lines ---\n${stack.tail(30)}`);
    throw err;
  } finally {
    await stack.stop();
  }
}
