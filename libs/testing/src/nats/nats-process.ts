import { setTimeout as sleep } from 'node:timers/promises';
import { readServerInfo } from './server-info';
import { spawnWatched, type WatchedProcess } from '@cb/ops';

const READY_TIMEOUT_MS = 15_000;
const GRACEFUL_STOP_MS = 10_000;

/** nats-server could not bind one of its ports (someone took it after `freePort()`). */
export class PortInUseError extends Error {}

export interface NatsProcessSpec {
  readonly binary: string;
  readonly args: readonly string[];
  /** Where its client port listens, and the server name it must announce there. */
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /** Removed by the watchdog should the test process die (default none). */
  readonly orphanDir: string | null;
  /** Ready only once INFO says JetStream is on. */
  readonly jetstream: boolean;
  /** The server's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Spawn nats-server under the watchdog and wait until it answers with our server name. */
export async function launchNats(spec: NatsProcessSpec): Promise<WatchedProcess> {
  const proc = await spawnWatched(spec.binary, spec.args, {
    orphanDir: spec.orphanDir,
    ...(spec.env !== undefined ? { env: spec.env } : {}),
  });
  try {
    await waitUntilReady(proc, spec);
    return proc;
  } catch (err) {
    await terminateNats(proc, 'SIGKILL').catch(() => undefined);
    throw err;
  }
}

/** Disarm the watchdog, signal, and wait for the exit (SIGKILL after 10 s of SIGTERM). */
export async function terminateNats(
  proc: WatchedProcess,
  signal: 'SIGTERM' | 'SIGKILL',
): Promise<void> {
  proc.release();
  proc.kill(signal);
  if (await proc.waitExit(signal === 'SIGKILL' ? 5_000 : GRACEFUL_STOP_MS)) return;
  proc.kill('SIGKILL');
  if (!(await proc.waitExit(5_000))) {
    throw new Error(`nats-server (pid ${proc.pid}) did not exit after SIGKILL`);
  }
}

async function waitUntilReady(proc: WatchedProcess, spec: NatsProcessSpec): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const command = `${spec.binary} -p ${spec.port}`;
  for (;;) {
    if (!proc.running) {
      // Give the pipe a moment to deliver the server's last words.
      await sleep(20);
      const output = proc.output();
      const message = `${command} exited during start-up:\n${output}`;
      throw /address already in use/i.test(output)
        ? new PortInUseError(message)
        : new Error(message);
    }
    // Our server name in INFO proves the port is ours, not a stranger's that took it first.
    const info = await readServerInfo(spec.host, spec.port, 1000).catch(() => null);
    if (info?.server_name === spec.name && (!spec.jetstream || info.jetstream === true)) return;
    if (Date.now() > deadline) {
      throw new Error(
        `${command} did not accept connections within ${READY_TIMEOUT_MS} ms:\n${proc.output()}`,
      );
    }
    await sleep(info ? 25 : 10);
  }
}
