import { DEFAULT_LIMITS } from './graphql/limits';
import { resolve } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { Registry } from 'prom-client';
import { Authenticator, FailureSlowdown, KeyStore, RateLimiter, ensureAuthBuckets } from '@cb/auth';
import {
  authSettingsOf,
  guardPoolSettingsOf,
  namingOptionsOf,
  natsSettingsOf,
  streamSettingsOf,
} from '@cb/config';
import { GuardPool } from '@cb/guard-pool';
import {
  EventStore,
  RequestMux,
  connectNats,
  drainAtShutdown,
  ensureInfrastructure,
  isNatsConnected,
} from '@cb/nats';
import { bootstrap, exitOnStartupError, onShutdownSignal } from '@cb/ops';
import { kvStreamName, Naming } from '@cb/subjects';
import { buildApp } from './app';
import { CommandClient } from './command-client';
import { CommandServiceProbe } from './command-probe';
import { loadGatewayConfig } from './config';
import { LiveEvents } from './read/live-events';
import { LiveHubs } from './read/live-hubs';
import { registerReadModelLag } from './read/read-model-lag';
import { ReadView } from './read/read-view';
import { Reads } from './read/reads';
import { WebhookReads } from './read/webhooks';
import { StrongTokenReader } from './token-reader';

const SERVICE = 'query-gateway';

async function main(): Promise<void> {
  const { config, logger } = bootstrap(SERVICE, () => loadGatewayConfig());
  try {
    const naming = new Naming(namingOptionsOf(config));
    const nc = await connectNats(natsSettingsOf(config, SERVICE), logger);
    const infra = await ensureInfrastructure(nc, naming, streamSettingsOf(config), logger, {
      deadLetters: false,
      idempotency: false,
    });
    const store = new EventStore(nc, infra.mux, naming.stream);
    const view = new ReadView(nc, infra.mux, naming, logger);
    await view.start();
    const registry = new Registry();
    registerReadModelLag(registry, store, naming, (item) => view.watermark(item));
    const auth = authSettingsOf(config);
    const buckets = await ensureAuthBuckets(
      jetstream(nc),
      naming,
      { sessionTtlSeconds: auth.sessionTtlSeconds, replicas: config.CB_STREAM_REPLICAS },
      logger,
    );
    const authenticator = new Authenticator({
      buckets,
      naming,
      logger: logger.child({ component: 'auth' }),
      ...auth,
      registry,
    });
    await authenticator.start();
    const keys = new KeyStore(buckets.keys, naming);
    if (auth.adminKey === undefined && (await keys.list()).length === 0) {
      logger.warn(
        'CB_ADMIN_KEY is not set and no API key exists: nothing can authenticate. Set CB_ADMIN_KEY (32+ characters) to create keys.',
      );
    }
    const limiter = new RateLimiter({
      kv: buckets.rateLimits,
      naming,
      logger: logger.child({ component: 'rate-limit' }),
      defaultLimit: auth.defaultRateLimit,
      registry,
    });
    const guards = new GuardPool({
      ...guardPoolSettingsOf(config),
      logger: logger.child({ component: 'guards' }),
      registry,
    });
    await guards.whenReady();
    const reads = new Reads(
      nc,
      infra.mux,
      naming,
      store,
      view,
      // Strong reads ask the stream's leader: a replica may not have the latest write yet.
      new StrongTokenReader(
        new EventStore(nc, infra.mux, naming.stream, { reads: 'leader' }),
        naming,
      ),
      guards,
      {
        lagWaitMs: config.MIN_SEQ_WAIT_MS,
        scanTimeoutMs: config.SCAN_TIMEOUT_MS,
      },
    );
    const probe = new CommandServiceProbe(
      infra.mux,
      naming,
      logger.child({ component: 'commands' }),
    );
    probe.start();
    // Live events have a connection of their own: however much they carry, command replies and
    // reads never wait behind them, and if the server ever dropped it, those would not go too.
    const liveNc = await connectNats(natsSettingsOf(config, `${SERVICE}-live`), logger);
    const liveMux = new RequestMux(liveNc);
    const hubs = new LiveHubs(liveNc, liveMux, naming.stream, logger.child({ component: 'live' }), {
      heartbeatMs: config.SSE_HEARTBEAT_MS,
    });
    const live = new LiveEvents(hubs, {
      maxConnections: config.SSE_MAX_CONNECTIONS,
      clientBufferBytes: config.SSE_CLIENT_BUFFER_BYTES,
    });
    const app = buildApp({
      logger,
      registry,
      auth: {
        authenticator,
        limiter,
        slowdown: new FailureSlowdown({ maxDelayMs: auth.failureDelayMaxMs }),
      },
      commands: new CommandClient(nc, infra.mux, naming, config.COMMAND_TIMEOUT_MS, probe),
      reads,
      guards,
      webhooks: new WebhookReads(nc, infra.mux, naming, { scanTimeoutMs: config.SCAN_TIMEOUT_MS }),
      webhookAllowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      live,
      store,
      naming,
      keys,
      ...(auth.pepper !== undefined ? { keyPepper: auth.pepper } : {}),
      projectionWaitMs: config.MIN_SEQ_WAIT_MS,
      bulkFireConcurrency: config.BULK_FIRE_CONCURRENCY,
      idempotencyWindowMs: config.CB_DUPLICATE_WINDOW_MS,
      maxBodyBytes: config.MAX_BODY_BYTES,
      ...(config.CONSOLE_DIR !== undefined ? { consoleDir: resolve(config.CONSOLE_DIR) } : {}),
      graphql: {
        ...DEFAULT_LIMITS,
        maxDepth: config.GRAPHQL_MAX_DEPTH,
        maxCost: config.GRAPHQL_MAX_COST,
        introspection: config.GRAPHQL_INTROSPECTION,
      },
      // Read at every probe: the ping's latest answer is already in memory.
      liveReadiness: () => ({
        commandService: probe.answering,
        guardWorkers: guards.readyWorkers > 0,
      }),
      readiness: async () => {
        // opsRoutes caches the answer for a second and times it out after one.
        const nats = isNatsConnected(nc);
        const exists = (stream: string): Promise<boolean> =>
          nats
            ? infra.jsm.streams.info(stream).then(
                () => true,
                () => false,
              )
            : Promise.resolve(false);
        // The read-model buckets (KV streams) of the generation readers follow.
        const generation = view.generation;
        const kinds = ['tokens', 'places', 'stats', 'workflows'] as const;
        const [stream, ...buckets] = await Promise.all([
          exists(naming.stream),
          ...kinds.map((kind) => exists(kvStreamName(naming.readModelBucket(kind, generation)))),
        ]);
        return {
          nats,
          stream: stream === true,
          ...Object.fromEntries(kinds.map((kind, i) => [`${kind}Bucket`, buckets[i] === true])),
        };
      },
    });
    const address = await app.listen({ port: config.GATEWAY_PORT, host: config.GATEWAY_HOST });
    logger.info({ address }, 'gateway listening');
    onShutdownSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
      await app.close();
      await limiter.close();
      await authenticator.close();
      probe.stop();
      await live.stopAll();
      liveMux.close();
      await drainAtShutdown(liveNc, logger);
      await guards.close();
      await view.stop();
      await drainAtShutdown(nc, logger);
    });
  } catch (err) {
    exitOnStartupError(logger, err);
  }
}

void main();
