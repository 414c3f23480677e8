/**
 * NATS least privilege (README, "NATS permissions and TLS"): a private nats-server runs the
 * configuration `natsServerConfig` generates (the one docker/nats-server.conf holds for the
 * default naming), JetStream encrypted at rest; every service connects as its own user. The
 * stack works under it, and the gateway's and the projection's credentials are refused what only
 * the command service may do.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger } from '@cb/logging';
import {
  NATS_USERS,
  inboxPrefixOf,
  provision,
  natsPasswordVariable,
  natsServerConfig,
  type NatsUser,
} from '@cb/nats';
import {
  adminAuthorization,
  deploymentEnv,
  loadFixtureWorkflow,
  natsUserEnv,
  startAutomationWorker,
  startServiceStack,
  startTestNats,
  uniqueNaming,
  waitFor,
  type ServiceStack,
  type ServiceWithOps,
  type TestNats,
} from '@cb/testing';

jest.setTimeout(180_000);

const naming = uniqueNaming();
const passwords = Object.fromEntries(
  NATS_USERS.map((u) => [u, `p${randomBytes(24).toString('hex')}`]),
) as Record<NatsUser, string>;
let dir: string;
let nats: TestNats;
let stack: ServiceStack;
let automation: ServiceWithOps | undefined;
let env: Record<string, string>;
const clients: NatsConnection[] = [];
type Json = Record<string, unknown>;

/** A client connected as `user` with its own inbox prefix, errors recorded. */
async function clientAs(user: NatsUser): Promise<NatsConnection & { errors: string[] }> {
  const nc = await connect({
    servers: nats.url,
    user,
    pass: passwords[user],
    inboxPrefix: inboxPrefixOf(user),
    reconnect: false,
  });
  clients.push(nc);
  const errors: string[] = [];
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'error') errors.push(String(s.error));
  })();
  return Object.assign(nc, { errors });
}

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(stack.gatewayUrl + path, {
    method,
    headers: {
      ...adminAuthorization(env),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
};

/** A subscription the server refuses: the iterator fails with a permissions violation. */
async function expectSubscribeRefused(nc: NatsConnection, subject: string): Promise<void> {
  const sub = nc.subscribe(subject);
  await nc.flush();
  const outcome = await (async () => {
    try {
      for await (const _m of sub) return 'message';
      return 'ended';
    } catch (err) {
      return String(err);
    }
  })();
  expect(outcome).toMatch(
    new RegExp(`Permissions Violation for Subscription to "${esc(subject)}"`),
  );
}

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cb-natsperm-'));
  const configFile = join(dir, 'nats-server.conf');
  writeFileSync(
    configFile,
    natsServerConfig(naming, { jetstream: { encryptionKeyVariable: 'CB_JS_ENCRYPTION_KEY' } }),
  );
  nats = await startTestNats({
    configFile,
    env: {
      ...Object.fromEntries(NATS_USERS.map((u) => [natsPasswordVariable(u), passwords[u]])),
      // After a letter: nats-server parses a `$VAR` value, and one starting with digits is not
      // a string (it refused to start on such a key now and then).
      CB_JS_ENCRYPTION_KEY: `k${randomBytes(32).toString('hex')}`,
    },
  });
  env = deploymentEnv(nats.url, naming, { LOG_LEVEL: 'info' });
  stack = await startServiceStack(env, {
    projectionWorkers: 1,
    serviceEnv: {
      command: natsUserEnv('command', passwords.command),
      projection: natsUserEnv('projection', passwords.projection),
      gateway: natsUserEnv('gateway', passwords.gateway),
    },
  });
  automation = await startAutomationWorker({
    ...env,
    ...natsUserEnv('automation', passwords.automation),
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await automation?.stop();
  await stack?.stop();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the stack under per-service NATS users', () => {
  it('defines, creates, fires and reads back (eventual, strong, SSE) through the gateway', async () => {
    expect(
      (await call('POST', '/v1/workflows', loadFixtureWorkflow('order-processing'))).status,
    ).toBe(201);
    const created = await call('POST', '/v1/workflows/order_processing/tokens', { id: 'perm-1' });
    expect(created.status).toBe(201);

    const live = new AbortController();
    const sse = await fetch(`${stack.gatewayUrl}/v1/workflows/order_processing/events`, {
      headers: adminAuthorization(env),
      signal: live.signal,
    });
    expect(sse.status).toBe(200);
    const received = (async () => {
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of sse.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk);
        if (/"checkout"/.test(text)) return text;
      }
      return text;
    })();

    const fired = await call('POST', '/v1/workflows/order_processing/tokens/perm-1/fire', {
      transition: 'checkout',
    });
    expect(fired.status).toBe(200);
    expect(fired.body.place).toBe('payment_pending');
    const strong = await call(
      'GET',
      '/v1/workflows/order_processing/tokens/perm-1?consistency=strong',
    );
    expect(strong).toMatchObject({ status: 200, body: { place: 'payment_pending' } });
    const read = await waitFor(
      async () => {
        const r = await call('GET', '/v1/workflows/order_processing/tokens/perm-1');
        return r.status === 200 && r.body.place === 'payment_pending' ? r : undefined;
      },
      { timeoutMs: 10_000, description: 'the projection to show the fired token' },
    );
    expect(read.body.id).toBe('perm-1');
    expect(await received).toMatch(/"checkout"/);
    live.abort();
  });

  it('API keys (key events, the key projection), sessions and rate limits work', async () => {
    const key = await call('POST', '/v1/admin/keys', { tenant: 'default', scopes: ['read'] });
    expect(key.status).toBe(201);
    const asKey = { authorization: `Bearer ${key.body.key as string}` };
    const read = await waitFor(
      async () => {
        const r = await fetch(`${stack.gatewayUrl}/v1/workflows/order_processing/tokens/perm-1`, {
          headers: asKey,
        });
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 10_000, description: 'the new key to be projected' },
    );
    expect(read.headers.get('ratelimit-limit')).toMatch(/^\d+$/);
    const session = await fetch(`${stack.gatewayUrl}/v1/sessions`, {
      method: 'POST',
      headers: asKey,
    });
    expect(session.status).toBe(201);
  });

  it('webhooks (webhook events, the webhooks projection, status and deliveries reads) work', async () => {
    // A public address literal: no DNS lookup needed.
    const created = await call('POST', '/v1/webhooks', { url: 'https://93.184.215.14/hook' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call('GET', `/v1/webhooks/${id}`)).status).toBe(200);
    expect((await call('GET', `/v1/webhooks/${id}/deliveries`)).body).toEqual({ items: [] });
    expect((await call('GET', '/v1/webhooks')).status).toBe(200);
    expect((await call('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
  });
});

describe('timers under the automation user', () => {
  it('a timed transition fires by itself, and the token read shows the timer until then', async () => {
    const defined = await call('POST', '/v1/workflows', {
      id: 'perm_timer',
      name: 'perm_timer',
      places: ['waiting', 'expired'],
      initialPlace: 'waiting',
      finalPlaces: ['expired'],
      transitions: [{ id: 'expire', from: ['waiting'], to: 'expired', after: 'PT2S' }],
    });
    expect(defined.status).toBe(201);
    expect((await call('POST', '/v1/workflows/perm_timer/tokens', { id: 'perm-t' })).status).toBe(
      201,
    );
    const strong = '/v1/workflows/perm_timer/tokens/perm-t?consistency=strong';
    const pending = await waitFor(
      async () => ((await call('GET', strong)).body.timers as Json[] | undefined)?.[0],
      { timeoutMs: 2000, description: 'the pending timer on the token read' },
    );
    expect(pending.transition).toBe('expire');
    const fired = await waitFor(
      async () => {
        const r = await call('GET', strong);
        return r.body.place === 'expired' ? r.body : undefined;
      },
      { timeoutMs: 10_000, description: 'the timer to fire' },
    );
    expect(fired.timers).toBeUndefined();
    expect((fired.lastTransition as Json).triggeredBy).toBe('timer');
  });
});

describe("a client holding the automation's NATS credentials", () => {
  it('cannot publish an event, answer or send other commands, or write a read model', async () => {
    const nc = await clientAs('automation');
    const subject = naming.tokenSubject('default', 'perm_timer', 'perm-t');
    await expect(jetstream(nc).publish(subject, '{}')).rejects.toThrow(
      /Permissions Violation for Publish/,
    );
    await expectSubscribeRefused(nc, naming.commandWildcard);
    const create = naming.tokenCommandSubject(0, 'token.create');
    const refusedCreate = new RegExp(`Permissions Violation for Publish to "${esc(create)}"`);
    nc.publish(create, '{}');
    await nc.flush();
    await waitFor(async () => nc.errors.some((e) => refusedCreate.test(e)), {
      timeoutMs: 5000,
      description: 'the refusal of a create command',
    });
    const tokens = await new Kvm(nc).open(naming.readModelBucket('tokens', 1));
    await expect(tokens.put(naming.tokenKey('default', 'perm-t'), '{}')).rejects.toThrow(
      /Permissions Violation for Publish to "\$KV\./,
    );
  });
});

describe("a client holding the gateway's NATS credentials", () => {
  it('cannot publish a forged event (the JetStream publish is refused)', async () => {
    const nc = await clientAs('gateway');
    const subject = naming.tokenSubject('default', 'order_processing', 'perm-1');
    await expect(
      jetstream(nc).publish(subject, '{"type":"token.transitioned.v1"}'),
    ).rejects.toThrow(new RegExp(`Permissions Violation for Publish to "${esc(subject)}"`));
    await expect(
      jetstream(nc).publish(naming.workflowSubject('default', 'order_processing'), '{}'),
    ).rejects.toThrow(/Permissions Violation for Publish/);
  });

  it('cannot answer commands: subscribing to the command subjects is refused', async () => {
    const nc = await clientAs('gateway');
    await expectSubscribeRefused(nc, naming.commandWildcard);
  });

  it('cannot write a read model', async () => {
    const nc = await clientAs('gateway');
    const tokens = await new Kvm(nc).open(naming.readModelBucket('tokens', 1));
    await expect(
      tokens.put(naming.tokenKey('default', 'perm-1'), '{"place":"delivered"}'),
    ).rejects.toThrow(/Permissions Violation for Publish to "\$KV\./);
  });

  it("cannot read others' replies: _INBOX.> and another user's inbox are refused", async () => {
    const nc = await clientAs('gateway');
    await expectSubscribeRefused(nc, '_INBOX.>');
    await expectSubscribeRefused(nc, `${inboxPrefixOf('command')}.>`);
  });

  it("cannot forge a reply into another user's inbox", async () => {
    const nc = await clientAs('gateway');
    const inbox = `${inboxPrefixOf('command')}.forged.1`;
    nc.publish(inbox, '{"seq":1}');
    await nc.flush();
    await waitFor(async () => nc.errors.length > 0, {
      timeoutMs: 5000,
      description: 'the refusal',
    });
    expect(nc.errors).toEqual([
      expect.stringMatching(new RegExp(`Permissions Violation for Publish to "${esc(inbox)}"`)),
    ]);
  });

  it('cannot delete or purge the event stream', async () => {
    const nc = await clientAs('gateway');
    const jsm = await jetstreamManager(nc);
    await expect(jsm.streams.delete(naming.stream)).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.streams.purge(naming.stream)).rejects.toThrow(/Permissions Violation/);
  });
});

describe("a client holding the projection's NATS credentials", () => {
  it("cannot publish an event, answer a command or write the gateways' buckets", async () => {
    const nc = await clientAs('projection');
    const subject = naming.tokenSubject('default', 'order_processing', 'perm-1');
    await expect(jetstream(nc).publish(subject, '{}')).rejects.toThrow(
      /Permissions Violation for Publish/,
    );
    await expectSubscribeRefused(nc, naming.commandWildcard);
    const sessions = await new Kvm(nc).open(naming.sessionsBucket);
    await expect(sessions.put('0'.repeat(64), '{}')).rejects.toThrow(/Permissions Violation/);
  });
});

describe('creating what another user owns', () => {
  it('a user that may not create a missing bucket waits for its owner, then fails NOT_PERMITTED', async () => {
    const logger = createLogger({ service: 'test', level: 'silent' });
    // Read models after generation 1 are the rebuild's (admin): not even the projection user's.
    for (const user of ['gateway', 'projection'] as const) {
      const nc = await clientAs(user);
      const bucket = naming.readModelBucket('tokens', 7);
      const t0 = Date.now();
      await expect(
        provision(() => new Kvm(nc).create(bucket), {
          what: `bucket ${bucket}`,
          logger,
          waitMs: 1200,
        }),
      ).rejects.toMatchObject({
        code: 'NOT_PERMITTED',
        message: expect.stringContaining(
          `bucket ${bucket} does not exist and this NATS user may not create it`,
        ),
      });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1200);
    }
  });
});

describe('without credentials', () => {
  it('the server refuses the connection', async () => {
    await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow(
      /Authorization Violation/i,
    );
  });
});

describe('the services themselves', () => {
  it('were refused nothing: the file grants each what it needs', () => {
    const log = nats.output?.() ?? '';
    expect(log).toMatch(/Server is ready/);
    // Service connections are named (`service@host/pid`); the probing clients above are not.
    const refused = log.split('\n').filter((l) => /Violation/.test(l) && /nats\.js:/.test(l));
    expect(refused).toEqual([]);
  });
});
