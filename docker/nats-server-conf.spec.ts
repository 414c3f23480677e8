/**
 * docker/nats-server.conf is `natsServerConfig` for the default naming (regenerate it with
 * `npm run nats:config`): the committed file and the generator cannot drift. nats-server itself
 * must accept it (`-t`), refuse to start while a password or the encryption key is unset, and
 * compose must run it on every node with each service as its own user.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
/* eslint-disable @nx/enforce-module-boundaries -- the generator is the contract of the file */
import { DOCKER_NATS_CONFIG, NATS_USERS, natsPasswordVariable, natsServerConfig } from '@cb/nats';
import { DEFAULT_NAMING, Naming } from '@cb/subjects';
import { findNatsServerBinary } from '@cb/testing';
/* eslint-enable @nx/enforce-module-boundaries */

const FILE = join(__dirname, 'nats-server.conf');
const MOUNTED = '/etc/nats/nats-server.conf';
const committed = readFileSync(FILE, 'utf8');
const variables = [...NATS_USERS.map(natsPasswordVariable), 'CB_JS_ENCRYPTION_KEY'];

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}
const compose = parse(readFileSync(join(__dirname, 'compose.yaml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };

describe('docker/nats-server.conf', () => {
  it('is exactly what natsServerConfig generates for the default naming (npm run nats:config)', () => {
    expect(committed).toBe(natsServerConfig(new Naming(DEFAULT_NAMING), DOCKER_NATS_CONFIG));
  });

  it('encrypts JetStream at rest and reads every secret from the environment', () => {
    expect(committed).toMatch(
      /jetstream \{[^}]*cipher: chachapoly\n\s*key: \$CB_JS_ENCRYPTION_KEY/,
    );
    for (const v of variables) expect(committed).toContain(`$${v}`);
    expect(committed).not.toMatch(/password: (?!\$)/);
  });

  const binary = findNatsServerBinary();
  (binary ? it : it.skip)(
    'nats-server accepts it, and refuses it while a variable is unset',
    () => {
      const check = (env: Record<string, string>) =>
        spawnSync(binary!, ['-c', FILE, '-t'], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', ...env },
          timeout: 20_000,
        });
      const all = Object.fromEntries(variables.map((v) => [v, `v${v.length}x${v.toLowerCase()}`]));
      const ok = check(all);
      expect({ status: ok.status, out: ok.stderr + ok.stdout }).toEqual({
        status: 0,
        out: expect.stringMatching(/is valid/),
      });
      for (const missing of variables) {
        const { [missing]: _gone, ...rest } = all;
        const refused = check(rest);
        expect(refused.status).not.toBe(0);
        expect(refused.stderr + refused.stdout).toContain(`'${missing}'`);
      }
    },
  );
});

describe('docker/compose.yaml runs it', () => {
  const nodes = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('nats:'));

  it('on every node, mounted read-only, with every variable it refers to required', () => {
    expect(nodes).toHaveLength(3);
    for (const [, svc] of nodes) {
      expect(svc.volumes).toContain(`./nats-server.conf:${MOUNTED}:ro`);
      expect(svc.command).toContain(`--config=${MOUNTED}`);
      for (const v of variables) {
        expect(svc.environment?.[v]).toMatch(new RegExp(`^\\$\\{${v}:\\?.+\\}$`));
      }
    }
  });

  it('with each service as its own NATS user, its password required', () => {
    const users: Record<string, string> = {
      'command-service': 'command',
      'projection-service': 'projection',
      'automation-service': 'automation',
      'query-gateway': 'gateway',
    };
    const apps = Object.values(compose.services).filter((s) => !s.image?.startsWith('nats:'));
    expect(apps.map((s) => s.command?.[0]).sort()).toEqual(Object.keys(users).sort());
    for (const svc of apps) {
      const user = users[svc.command![0]!]!;
      expect(svc.environment?.NATS_USER).toBe(user);
      expect(svc.environment?.NATS_PASSWORD).toMatch(
        new RegExp(`^\\$\\{${natsPasswordVariable(user as 'command')}:\\?.+\\}$`),
      );
    }
  });
});
