import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from '@nats-io/transport-node';
import {
  NATS_USERS,
  inboxPrefixOf,
  natsPasswordVariable,
  natsServerConfig,
  type NatsUser,
} from '@cb/nats';
import type { Naming } from '@cb/subjects';
import { natsUserEnv, startTestNats, type TestNats } from '@cb/testing';

/**
 * The benchmarks' nats-server, as `npm start` runs its own: the configuration
 * `natsServerConfig` generates (README, "NATS permissions and TLS") with random passwords, each
 * service connecting as its own user, the raw baselines and set-up as `admin`.
 */
export interface BenchNats {
  readonly url: string;
  /** The nats-server's pid while it runs as a local binary, else null. */
  readonly pid: number | null;
  /** Connection options of `user`: its password and its private inbox prefix. */
  as(user: NatsUser): ConnectionOptions;
  /** The variables that make a service process connect as `user`. */
  envOf(user: NatsUser): Record<string, string>;
  /** `startServiceStack`'s `serviceEnv`: each service as its own user. */
  readonly serviceEnv: Record<'command' | 'projection' | 'gateway', Record<string, string>>;
  dispose(): Promise<void>;
}

export async function startBenchNats(naming: Naming): Promise<BenchNats> {
  const dir = mkdtempSync(join(tmpdir(), 'cb-bench-nats-'));
  const passwords = Object.fromEntries(
    NATS_USERS.map((u) => [u, `p${randomBytes(24).toString('hex')}`]),
  ) as Record<NatsUser, string>;
  const configFile = join(dir, 'nats-server.conf');
  writeFileSync(configFile, natsServerConfig(naming));
  let nats: TestNats;
  try {
    nats = await startTestNats({
      configFile,
      env: Object.fromEntries(NATS_USERS.map((u) => [natsPasswordVariable(u), passwords[u]])),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const envOf = (user: NatsUser): Record<string, string> => natsUserEnv(user, passwords[user]);
  return {
    url: nats.url,
    get pid() {
      return nats.pid;
    },
    as: (user) => ({
      servers: nats.url,
      user,
      pass: passwords[user],
      inboxPrefix: inboxPrefixOf(user),
    }),
    envOf,
    serviceEnv: {
      command: envOf('command'),
      projection: envOf('projection'),
      gateway: envOf('gateway'),
    },
    async dispose() {
      await nats.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
