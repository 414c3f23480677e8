import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeHealth } from '@cb/ops';

/** Resolve once a TCP port accepts connections, or throw after `timeoutMs`. */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

/** Resolve once `url` answers 200, or throw after `timeoutMs`. */
export async function waitForReady(
  url: string,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process behind ${url} exited`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await sleep(150);
  }
  throw new Error(`${url} was not ready after ${timeoutMs} ms`);
}

/**
 * Resolve once the nats-server monitoring endpoint at `monitorUrl` answers `/healthz` 200 (in a
 * cluster: a meta leader is known, the node is current with it and so is every stream it
 * holds), or throw after `timeoutMs` with its last complaint.
 */
export async function waitForHealthz(
  monitorUrl: string,
  timeoutMs: number,
  alive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the nats-server behind ${monitorUrl} exited`);
    const health = await nodeHealth(monitorUrl);
    if (health.ok) return;
    last = health.error ?? last;
    // (nats-server logs each failed health check as a warning.)
    await sleep(250);
  }
  throw new Error(`${monitorUrl}/healthz was not ok after ${timeoutMs} ms: ${last}`);
}

/** Whether a TCP port is free on 127.0.0.1. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
