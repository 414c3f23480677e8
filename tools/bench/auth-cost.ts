/**
 * Cost of authentication and rate limiting per request, in the gateway's process terms: CPU µs
 * of `Authenticator.authenticate` (cached API key, cached session, root, an unknown key that
 * costs a KV get) and of `RateLimiter.take` at the default 6,000 requests per 60 s (within the
 * quota, then refused), and the NATS requests the limiter makes per 1,000 requests; one private
 * nats-server, one process. No target: figures to set beside the gateway's.
 */
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import {
  Authenticator,
  KeyStore,
  RateLimiter,
  ensureAuthBuckets,
  hashSecret,
  mintApiKey,
  type AuthSuccess,
} from '@cb/auth';
import { createLogger } from '@cb/logging';
import { Naming } from '@cb/subjects';
import { startTestNats } from '@cb/testing';

const ADMIN_KEY = 'bench-admin-key-0123456789-0123456789';

export async function benchAuthCost(): Promise<void> {
  const nats = await startTestNats();
  const nc = await connect({ servers: nats.url });
  const logger = createLogger({ service: 'bench-auth', level: 'warn' });
  const naming = new Naming({ prefix: 'bench', stream: 'BENCH', partitions: 1 });
  try {
    const buckets = await ensureAuthBuckets(
      jetstream(nc),
      naming,
      { sessionTtlSeconds: 3600, replicas: 1 },
      logger,
    );
    const auth = new Authenticator({
      buckets,
      naming,
      logger,
      adminKey: ADMIN_KEY,
      sessionTtlSeconds: 3600,
    });
    await auth.start();
    const minted = mintApiKey();
    await new KeyStore(buckets.keys, naming).put({
      id: minted.id,
      tenant: 'bench',
      scopes: ['read'],
      createdAt: new Date().toISOString(),
      createdBy: { tenant: 'default', keyId: 'root' },
      hash: hashSecret(minted.secret),
    });
    const key = `Bearer ${minted.key}`;
    const viaKey = (await auth.authenticate(key)) as AuthSuccess;
    const session = `Bearer ${(await auth.createSession(viaKey)).session.session}`;
    await auth.authenticate(session);

    await cpuPerCall('authenticate, API key (cached)', 100_000, () => auth.authenticate(key));
    await cpuPerCall('authenticate, session (cached)', 100_000, () => auth.authenticate(session));
    await cpuPerCall('authenticate, root credential', 100_000, () =>
      auth.authenticate(`Bearer ${ADMIN_KEY}`),
    );
    await cpuPerCall('authenticate, unknown key (one KV get)', 5_000, () =>
      auth.authenticate(`Bearer ${mintApiKey().key}`),
    );

    const registry = new Registry();
    const limiter = new RateLimiter({
      kv: buckets.rateLimits,
      naming,
      logger,
      defaultLimit: { requests: 6000, windowSeconds: 60 },
      registry,
    });
    // Start early in a window so the 6,000 are not cut by its end.
    const toNext = 60_000 - (Date.now() % 60_000);
    if (toNext < 20_000) await new Promise((r) => setTimeout(r, toNext + 100));
    const keyId = mintApiKey().id;
    let allowed = 0;
    await cpuPerCall(
      'rate limit take, within the quota',
      5_000,
      async () => {
        if ((await limiter.take(keyId)).allowed) allowed++;
      },
      0,
    );
    const ops = await registry.getSingleMetricAsString('cb_rate_limit_nats_requests_total');
    const requests = [...ops.matchAll(/op="(\w+)"\} (\d+)/g)].reduce((n, m) => n + Number(m[2]), 0);
    console.log(
      `  rate limit: ${allowed} of 5,000 allowed with ${requests} NATS requests ` +
        `(${((requests / 5000) * 1000).toFixed(1)} per 1,000 requests)`,
    );
    await cpuPerCall('rate limit take, refused (over the quota)', 100_000, async () => {
      await limiter.take(keyId, { requests: 1, windowSeconds: 3600 });
    });
    await limiter.close();
    await auth.close();
  } finally {
    await nc.close();
    await nats.dispose();
  }
}

async function cpuPerCall(
  what: string,
  calls: number,
  call: () => Promise<unknown>,
  warmUp = Math.min(1000, calls / 10),
) {
  for (let i = 0; i < warmUp; i++) await call();
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await call();
  const wallUs = Number(process.hrtime.bigint() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuUs = (used.user + used.system) / calls;
  console.log(
    `  ${what}: ${cpuUs.toFixed(2)} µs CPU per call (${(wallUs / calls).toFixed(2)} µs wall), ${calls} calls`,
  );
}
