import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startTestNats } from '../nats';
import type { TestNats } from '../nats/test-nats';
import { uniqueNaming } from '../unique-naming';
import { REPO_ROOT } from './repo-root';
import { freePort } from '@cb/ops';
import { startService, stopAll, type ServiceName, type ServiceProcess } from './service-process';

const READY = /command service ready/;

describe('REPO_ROOT', () => {
  it('is the directory holding nx.json', () => {
    expect(existsSync(join(REPO_ROOT, 'nx.json'))).toBe(true);
    expect(existsSync(join(REPO_ROOT, 'apps', 'command-service', 'src', 'main.ts'))).toBe(true);
  });
});

describe('startService', () => {
  let nats: TestNats;
  let nc: NatsConnection | undefined;
  const started: Array<ServiceProcess | undefined> = [];

  function commandEnv(extra: Record<string, string> = {}): Record<string, string> {
    const naming = uniqueNaming();
    return {
      NATS_URL: nats.url,
      CB_PREFIX: naming.prefix,
      CB_STREAM: naming.stream,
      COMMAND_HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      ...extra,
    };
  }

  beforeAll(async () => {
    nats = await startTestNats();
  });

  afterAll(async () => {
    await nc?.close();
    await stopAll(started);
    await nats?.dispose();
  });

  it('runs command-service, which answers commands and stops gracefully with code 0', async () => {
    const env = commandEnv();
    const service = await startService('command-service', { env, readyLine: READY });
    started.push(service);
    expect(service.running).toBe(true);
    expect(service.name).toBe('command-service-1');
    expect(service.exitCode).toBeNull();
    // Past output counts: the ready line has been printed already.
    expect(await service.waitForLine(READY, 100)).toContain('"opsPort"');

    nc = await connect({ servers: nats.url });
    const reply = await nc.request(
      `${env['CB_PREFIX']}.cmd.any.token.create`,
      JSON.stringify({
        command: { type: 'CreateToken', workflowId: 'nope' },
        principal: { tenant: 'default', keyId: 'root' },
      }),
      { timeout: 5000 },
    );
    const body = reply.json<{ ok: boolean; error?: { code: string } }>();
    expect(body.ok).toBe(false);
    expect(body.error?.code).toBe('WORKFLOW_NOT_FOUND');

    const stopping = Date.now();
    await expect(service.stop()).resolves.toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expect(service.running).toBe(false);
    expect(service.exitCode).toBe(0);
    expect(service.output()).toMatch(/"msg":"stopped"/);
    // Idempotent once stopped.
    await expect(service.stop()).resolves.toBe(0);
  }, 60_000);

  it('fails with the output tail when the configuration is invalid', async () => {
    const error = await startService('command-service', {
      env: commandEnv({ CB_PARTITIONS: 'abc' }),
      name: 'bad-config',
      readyLine: READY,
    }).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error?.message).toMatch(/^bad-config \(command-service, pid \d+\) exited with code 2/);
    // pino JSON: the quotes around the value are escaped.
    expect(error?.message).toContain('CB_PARTITIONS=\\"abc\\" is invalid');
  }, 60_000);

  it('reports a non-zero exit and the variable in the output when run without a ready check', async () => {
    const service = await startService('command-service', {
      env: commandEnv({ CB_PARTITIONS: 'abc' }),
    });
    started.push(service);
    expect(await service.waitExit(30_000)).toBe(true);
    expect(service.exitCode).not.toBe(0);
    expect(service.exitCode).not.toBeNull();
    expect(service.output()).toContain('CB_PARTITIONS');
    await expect(service.waitForLine(/never printed/, 1000)).rejects.toThrow(
      /exited with code 2 before printing a line matching/,
    );
  }, 60_000);

  it('fails with the output tail when the service is not ready in time', async () => {
    await expect(
      startService('command-service', {
        env: commandEnv(),
        name: 'slow',
        readyLine: /a line it never prints/,
        timeoutMs: 1500,
      }),
    ).rejects.toThrow(/^slow \(command-service, pid \d+\) was not ready within 1500 ms/);
  }, 60_000);

  it('waits for readyUrl to answer 200', async () => {
    const port = await freePort();
    const service = await startService('command-service', {
      env: commandEnv({ COMMAND_HTTP_HOST: '127.0.0.1', COMMAND_HTTP_PORT: String(port) }),
      readyUrl: `http://127.0.0.1:${port}/ready`,
    });
    started.push(service);
    expect(service.running).toBe(true);
    // /ready answers 200 only once NATS is connected, which main() logs before it is ready.
    expect(service.output()).toMatch(/connected to NATS/);
    await expect(service.stop()).resolves.toBe(0);
  }, 60_000);

  it('rejects a service without an entry point', async () => {
    await expect(startService('no-such-service' as ServiceName, { env: {} })).rejects.toThrow(
      /no-such-service has no entry point/,
    );
  });
});
