import { createServer } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '@cb/logging';
import { startOpsServer, type OpsServer } from './ops-server';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('startOpsServer', () => {
  const servers: OpsServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('serves /health, /ready from its checks, and Prometheus /metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'test_things_total', help: 'things', registers: [registry] }).inc(3);
    let natsUp = true;
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry,
      logger,
      readiness: [{ name: 'nats', check: () => natsUp }],
      healthDetails: () => ({ partitions: [1, 2] }),
    });
    servers.push(ops);
    const base = `http://127.0.0.1:${ops.port}`;
    expect(await (await fetch(`${base}/health`)).json()).toEqual({
      status: 'ok',
      partitions: [1, 2],
    });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    natsUp = false;
    const notReady = await fetch(`${base}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not ready', checks: { nats: false } });
    const metrics = await fetch(`${base}/metrics`);
    expect(await metrics.text()).toMatch(/^test_things_total 3$/m);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/health`, { method: 'POST' })).status).toBe(405);
  });

  it('falls back to a free port when the configured one is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const ops = await startOpsServer({
        host: '127.0.0.1',
        port: taken,
        registry: new Registry(),
        logger,
        readiness: [],
      });
      servers.push(ops);
      expect(ops.port).not.toBe(taken);
      expect((await fetch(`http://127.0.0.1:${ops.port}/health`)).status).toBe(200);
    } finally {
      blocker.close();
    }
  });
});
