/**
 * TLS for every NATS connection (README, "NATS permissions and TLS"): a nats-server with a `tls`
 * block and certificates made here (`makeTestCertificates`, openssl). `connectNats` (what every
 * service uses) connects with NATS_TLS_CA, and with a client certificate when the server verifies
 * clients; without the CA, or without the certificate where one is required, it is refused. A
 * command service process configured by NATS_TLS_* (and its NATS user) gets ready.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@cb/logging';
import {
  NATS_USERS,
  connectNats,
  natsPasswordVariable,
  natsServerConfig,
  type NatsUser,
} from '@cb/nats';
import {
  deploymentEnv,
  makeTestCertificates,
  natsUserEnv,
  startCommandService,
  startTestNats,
  uniqueNaming,
  waitFor,
  type ServiceWithOps,
  type TestCertificates,
  type TestNats,
} from '@cb/testing';

jest.setTimeout(120_000);

const naming = uniqueNaming();
const passwords = Object.fromEntries(
  NATS_USERS.map((u) => [u, `p${randomBytes(16).toString('hex')}`]),
) as Record<NatsUser, string>;
const passwordEnv = Object.fromEntries(
  NATS_USERS.map((u) => [natsPasswordVariable(u), passwords[u]]),
);
const logger = createLogger({ service: 'nats-tls-test', level: 'silent' });
let dir: string;
let certs: TestCertificates;
const servers: TestNats[] = [];
const connections: NatsConnection[] = [];

/** A nats-server with TLS (and the users); `verify` also requires client certificates. */
async function tlsNats(verify: boolean): Promise<TestNats> {
  const configFile = join(dir, `nats-${verify ? 'mtls' : 'tls'}.conf`);
  writeFileSync(
    configFile,
    natsServerConfig(naming, {
      tls: {
        certFile: certs.serverCertFile,
        keyFile: certs.serverKeyFile,
        caFile: certs.caFile,
        verify,
      },
    }),
  );
  const nats = await startTestNats({ configFile, env: passwordEnv });
  servers.push(nats);
  return nats;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-natstls-'));
  certs = await makeTestCertificates(dir);
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.dispose()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('NATS over TLS', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await tlsNats(false);
  });

  it('connectNats with NATS_TLS_CA connects, encrypted, as its user', async () => {
    const nc = await connectNats(
      {
        url: nats.url,
        name: 'tls-test',
        user: 'gateway',
        password: passwords.gateway,
        tls: { caFile: certs.caFile },
      },
      logger,
    );
    connections.push(nc);
    expect(nc.info?.tls_required).toBe(true);
    await nc.flush();
  });

  it('a client without the CA is refused: the server certificate is not trusted', async () => {
    await expect(
      connect({
        servers: nats.url,
        user: 'gateway',
        pass: passwords.gateway,
        reconnect: false,
        timeout: 5000,
      }),
    ).rejects.toThrow(/unable to verify the first certificate/);
  });

  it('a command service process with NATS_TLS_CA and its NATS user gets ready', async () => {
    const env = deploymentEnv(nats.url, naming, {
      ...natsUserEnv('command', passwords.command),
      NATS_TLS_CA: certs.caFile,
    });
    let command: ServiceWithOps | undefined;
    try {
      command = await startCommandService(env);
      const ready = await fetch(`${command.opsUrl}/ready`);
      expect(ready.status).toBe(200);
    } finally {
      await command?.stop();
    }
  });
});

describe('NATS over mutual TLS (the server verifies client certificates)', () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await tlsNats(true);
  });

  it('connectNats with NATS_TLS_CERT and NATS_TLS_KEY connects', async () => {
    const nc = await connectNats(
      {
        url: nats.url,
        name: 'mtls-test',
        user: 'projection',
        password: passwords.projection,
        tls: { caFile: certs.caFile, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile },
      },
      logger,
    );
    connections.push(nc);
    await nc.flush();
    expect(nc.isClosed()).toBe(false);
  });

  it('a client with the CA but no certificate is refused', async () => {
    const attempt = connect({
      servers: nats.url,
      user: 'projection',
      pass: passwords.projection,
      tls: { caFile: certs.caFile },
      reconnect: false,
      timeout: 5000,
    });
    await expect(
      attempt.then(async (nc) => {
        connections.push(nc);
        // The server's TLS alert may come right after the handshake: a round trip shows it.
        await nc.flush();
        return 'connected';
      }),
      // The alert, or (when the server closes first) a reset: refused either way, and the
      // server says why.
    ).rejects.toThrow(/alert bad certificate|certificate required|ECONNRESET/i);
    await waitFor(async () => /client didn't provide a certificate/.test(nats.output?.() ?? ''), {
      timeoutMs: 5000,
      description: 'the server logs the missing client certificate',
    });
  });
});
