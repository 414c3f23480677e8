import type { JetStreamClient } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import { provision } from '@cb/nats';
import type { Logger } from '@cb/logging';
import { kvStreamName, type Naming } from '@cb/subjects';

/** The largest rate-limit window; counters live twice that long (the bucket's age limit). */
export const MAX_WINDOW_SECONDS = 3600;

export interface AuthBuckets {
  /** API-key records by key id. */
  keys: KV;
  /** Sessions by the SHA-256 of their token; age limit = the session lifetime. */
  sessions: KV;
  /** Rate-limit counters by `<keyId>.<windowStart>`; age limit = 2 × MAX_WINDOW_SECONDS. */
  rateLimits: KV;
}

export interface AuthBucketSettings {
  /** SESSION_TTL_S: the sessions bucket keeps entries at least this long. */
  sessionTtlSeconds: number;
  replicas: number;
}

/**
 * Create (or open) the three buckets, idempotently and retried through outages like the rest of
 * the set-up. NATS 2.9 KV has no per-key TTL: the sessions bucket's age limit bounds every
 * session, and each session also carries its absolute expiry. An existing sessions bucket whose
 * age limit is shorter than `sessionTtlSeconds` is raised to it (never lowered: a shorter limit
 * would only end sessions early, and gateways configured differently would undo each other).
 */
export async function ensureAuthBuckets(
  js: JetStreamClient,
  naming: Naming,
  settings: AuthBucketSettings,
  logger: Logger,
): Promise<AuthBuckets> {
  const kvm = new Kvm(js);
  const retrying = <T>(what: string, work: () => Promise<T>): Promise<T> =>
    provision(work, { what, logger });
  const keys = await ensureKeysBucket(js, naming, settings.replicas, logger);
  const sessionTtlMs = settings.sessionTtlSeconds * 1000;
  const sessions = await retrying('sessions bucket', () =>
    kvm.create(naming.sessionsBucket, {
      history: 1,
      ttl: sessionTtlMs,
      replicas: settings.replicas,
    }),
  );
  await retrying('sessions bucket age', () =>
    raiseMaxAge(js, kvStreamName(naming.sessionsBucket), sessionTtlMs, logger),
  );
  const rateLimits = await retrying('rate-limit bucket', () =>
    kvm.create(naming.rateLimitBucket, {
      history: 1,
      ttl: 2 * MAX_WINDOW_SECONDS * 1000,
      replicas: settings.replicas,
    }),
  );
  return { keys, sessions, rateLimits };
}

/** The keys bucket alone: what the key projection writes (and gateways read). */
export function ensureKeysBucket(
  js: JetStreamClient,
  naming: Naming,
  replicas: number,
  logger: Logger,
): Promise<KV> {
  // Created by the key projection's user; a gateway's user only finds it (or waits for it).
  return provision(() => new Kvm(js).create(naming.keysBucket, { history: 1, replicas }), {
    what: 'keys bucket',
    logger,
  });
}

async function raiseMaxAge(
  js: JetStreamClient,
  stream: string,
  maxAgeMs: number,
  logger: Logger,
): Promise<void> {
  const jsm = await js.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const wanted = maxAgeMs * 1_000_000;
  if (info.config.max_age !== 0 && info.config.max_age < wanted) {
    await jsm.streams.update(stream, { max_age: wanted });
    logger.info(
      { stream, from: info.config.max_age / 1e9, to: maxAgeMs / 1000 },
      'sessions bucket age limit raised to the session lifetime (seconds)',
    );
  }
}
