import { createLogger } from '@cb/logging';
import { classifyNatsError, encodeJson, ensureInfrastructure } from '@cb/nats';
import type { CommandReply, CommandRequest } from '@cb/schemas';
import { uniqueNaming, useTestNats } from '@cb/testing';
import type { CommandHandler } from './command-handler';
import { CommandServer } from './command-server';
import { createCommandMetrics } from './metrics';

const logger = createLogger({ service: 'test', level: 'silent' });

const nats = useTestNats();

/** A handler whose commands all wait until `release()`: the server's queue stays full. */
function gatedHandler(): { handler: CommandHandler; started: () => number; release: () => void } {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let started = 0;
  const handler = {
    forgetPartition: () => undefined,
    async handle(): Promise<CommandReply> {
      started++;
      await gate;
      return { ok: false, error: { code: 'CONFLICT', message: 'released' } };
    },
  } as unknown as CommandHandler;
  return { handler, started: () => started, release: () => open() };
}

async function pingCode(subject: string): Promise<string> {
  try {
    await nats.nc.request(subject, undefined, { timeout: 1000 });
    return 'PONG';
  } catch (err) {
    return classifyNatsError(err).code;
  }
}

describe('command service ping', () => {
  it('answers at once while every command slot is busy and more commands wait, and stops with the server', async () => {
    const naming = uniqueNaming();
    const gated = gatedHandler();
    const infra = await ensureInfrastructure(
      nats.nc,
      naming,
      { replicas: 1, duplicateWindowMs: 60_000 },
      logger,
    );
    const commands = new CommandServer({
      nc: nats.nc,
      naming,
      handler: gated.handler,
      logger,
      metrics: createCommandMetrics(),
      concurrency: 1,
      leases: { kv: infra.meta, ttlMs: 4000 },
      newId: () => `t-${Math.random().toString(36).slice(2)}`,
    });
    expect(await pingCode(naming.commandPingSubject)).toBe('NO_RESPONDERS');
    await commands.start();
    for (let i = 0; i < 100 && commands.ownedItems.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }

    const request: CommandRequest = {
      command: { type: 'CreateToken', workflowId: 'wf' },
      principal: { tenant: 'default', keyId: 'root' },
    };
    const pending = [1, 2, 3].map(() =>
      nats.nc.request(naming.anyCreateSubject, encodeJson(request), { timeout: 10_000 }),
    );
    // One command runs (and never finishes), two wait behind it.
    for (let i = 0; i < 100 && commands.busy < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect({ busy: commands.busy, started: gated.started() }).toEqual({ busy: 3, started: 1 });

    const t0 = performance.now();
    expect(await pingCode(naming.commandPingSubject)).toBe('PONG');
    expect(performance.now() - t0).toBeLessThan(500);

    const stopped = commands.stop();
    gated.release();
    await stopped;
    expect((await Promise.all(pending)).length).toBe(3);
    expect(await pingCode(naming.commandPingSubject)).toBe('NO_RESPONDERS');
  });
});
