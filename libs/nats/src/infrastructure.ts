import {
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@cb/logging';
import type { Naming } from '@cb/subjects';
import { decodeJson, encodeJson } from './codec';
import { JS_ERR, NatsPlatformError } from './errors';
import { RequestMux } from './request-mux';
import { isPermissionViolation } from './permissions';
import { retryOutages } from './retry-outages';
import {
  deadLetterStreamConfig,
  ensureStream,
  eventStreamConfig,
  type StreamSettings,
  webhookDeliveriesStreamConfig,
} from './stream-setup';

export interface Infrastructure {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly js: JetStreamClient;
  readonly kvm: Kvm;
  /** Deployment bookkeeping: partition count, read-model pointer. */
  readonly meta: KV;
  /** Idempotency records of the command service, expiring with the duplicate window. */
  readonly idempotency: KV;
  /** Webhook registrations by `<tenant>.<hookId>` (the webhooks projection writes it). */
  readonly webhooks: KV;
  /** Each webhook's delivery status, same keys (the automation writes it). */
  readonly webhookStatus: KV;
  /** Lean request/reply for hot paths (see RequestMux). */
  readonly mux: RequestMux;
}

/** What to do with a stream from before tenants (see the README, "Tenants"). */
export const TENANT_MIGRATION_ADVICE =
  'Every subject and read-model key now starts with a tenant. Stop every service (old and new) ' +
  'and run `npm run migrate:tenants` with the same NATS_URL, NATS credentials, CB_PREFIX, ' +
  'CB_STREAM and CB_PARTITIONS: it copies the events into <stream>_MIGRATE and verifies the ' +
  'copy, seals and deletes this stream, creates it again with the tenant subjects and ' +
  'republishes every event into tenant `default` at its own seq (so every token version and ' +
  'ETag stays valid) with the principal {tenant: default, keyId: root}, then deletes the read ' +
  'models, projection bookkeeping and idempotency records (all derived), deletes the copy and ' +
  'rebuilds the read models (`npm run projections:rebuild`). Interrupted, it finishes when run ' +
  'again. See the README, "Migrating from the layout before tenants".';

/** What to do while the migration's copy exists (an interrupted `npm run migrate:tenants`). */
export const TENANT_MIGRATION_IN_PROGRESS_ADVICE =
  'A migration into tenants (`npm run migrate:tenants`) is running or was interrupted; ' +
  'services do not start until it has finished. Run `npm run migrate:tenants` again (every ' +
  'service stopped): it finishes from its copy and then deletes it.';

/** What a service sets up beyond the event stream and the meta bucket (default: everything). */
export interface InfrastructureNeeds {
  /** The projections' dead-letter stream (the projection service's). */
  deadLetters?: boolean;
  /** The command service's idempotency bucket (else only bound by name, never looked up). */
  idempotency?: boolean;
}

/**
 * Idempotent set-up shared by every service, so start order does not matter: the event and
 * dead-letter streams, the webhook deliveries stream, the meta, idempotency, webhooks and webhook
 * status buckets, and the partition-count check. Each is
 * looked up first and created only when missing; a NATS user that may not create it (see
 * natsPermissions) waits for the service that may (see `provision`).
 */
export async function ensureInfrastructure(
  nc: NatsConnection,
  naming: Naming,
  settings: StreamSettings,
  logger: Logger,
  needs: InfrastructureNeeds = {},
): Promise<Infrastructure> {
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  // Every step is idempotent: retried while NATS cannot serve it (see retryOutages).
  const retrying = <T>(what: string, work: () => Promise<T>): Promise<T> =>
    provision(work, { what, logger });
  await retrying('event stream', async () => {
    await refuseDuringTenantMigration(jsm, naming, logger);
    return ensureStream(
      jsm,
      eventStreamConfig(naming, settings),
      logger,
      { subjects: naming.legacyStreamSubjects, advice: TENANT_MIGRATION_ADVICE },
      naming.addedStreamSubjects,
    );
  });
  if (needs.deadLetters !== false) {
    await retrying('dead-letter stream', () =>
      ensureStream(jsm, deadLetterStreamConfig(naming, settings), logger),
    );
  }
  const kvm = new Kvm(js);
  const meta = await retrying('meta bucket', () =>
    kvm.create(naming.metaBucket, { history: 1, replicas: settings.replicas }),
  );
  const idempotency =
    needs.idempotency === false
      ? await kvm.open(naming.idempotencyBucket)
      : await retrying('idempotency bucket', () =>
          kvm.create(naming.idempotencyBucket, {
            history: 1,
            ttl: settings.duplicateWindowMs,
            replicas: settings.replicas,
          }),
        );
  await retrying('webhook deliveries stream', () =>
    ensureStream(jsm, webhookDeliveriesStreamConfig(naming, settings), logger),
  );
  const webhooks = await retrying('webhooks bucket', () =>
    kvm.create(naming.webhooksBucket, { history: 1, replicas: settings.replicas }),
  );
  const webhookStatus = await retrying('webhook status bucket', () =>
    kvm.create(naming.webhookStatusBucket, { history: 1, replicas: settings.replicas }),
  );
  await retrying('partition count', () => ensurePartitionCount(meta, naming, logger));
  return {
    nc,
    jsm,
    js,
    kvm,
    meta,
    idempotency,
    webhooks,
    webhookStatus,
    mux: new RequestMux(nc),
  };
}

/**
 * While the tenant migration's copy exists the event stream may be missing or half filled:
 * starting then would create or write a stream the migration is about to replace.
 */
async function refuseDuringTenantMigration(
  jsm: JetStreamManager,
  naming: Naming,
  logger: Logger,
): Promise<void> {
  const name = naming.tenantMigrationStream;
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JS_ERR.streamNotFound) return;
    throw err;
  }
  logger.error({ stream: name }, 'a tenant migration is unfinished; refusing to start');
  throw new NatsPlatformError(
    'STREAM_MIGRATION_IN_PROGRESS',
    `stream ${name} exists: ${TENANT_MIGRATION_IN_PROGRESS_ADVICE}`,
  );
}

/**
 * The partition count is fixed when the stream is created: token subjects embed the partition,
 * so a service with a different count would read and write the wrong subjects.
 */
export async function ensurePartitionCount(
  meta: KV,
  naming: Naming,
  logger: Logger,
): Promise<void> {
  const key = naming.partitionsMetaKey;
  // Read first: a NATS user that may not write the meta bucket (a gateway) only compares.
  let entry = await meta.get(key);
  if (entry === null) {
    try {
      await meta.create(key, encodeJson({ partitions: naming.partitions }));
      logger.info({ partitions: naming.partitions }, 'partition count recorded');
      return;
    } catch (err) {
      // A concurrent creator won (compare below), or this user may not write it (wait for one).
      if (isPermissionViolation(err)) throw err;
    }
    entry = await meta.get(key);
  }
  const recorded = entry
    ? (decodeJson(entry.value) as { partitions?: unknown } | undefined)
    : undefined;
  if (recorded?.partitions !== naming.partitions) {
    throw new NatsPlatformError(
      'PARTITIONS_MISMATCH',
      `this deployment's stream ${naming.stream} was created with ${String(recorded?.partitions)} ` +
        `partitions but CB_PARTITIONS is ${naming.partitions}; set CB_PARTITIONS=${String(recorded?.partitions)}`,
    );
  }
}

export interface ProvisionOptions {
  /** What is being set up, for the log and the error. */
  what: string;
  logger: Logger;
  /** How long to wait for another service to create what this user may not (default 30 s). */
  waitMs?: number;
}

/**
 * Set-up work (look up, create when missing) retried through outages; when NATS refuses the
 * creation to this user (a permissions violation: another service's user owns it), wait for that
 * service to create it, then fail with an error that says so.
 */
export async function provision<T>(work: () => Promise<T>, options: ProvisionOptions): Promise<T> {
  const deadline = Date.now() + (options.waitMs ?? 30_000);
  let warned = false;
  for (;;) {
    try {
      return await retryOutages(work, options);
    } catch (err) {
      if (!isPermissionViolation(err)) throw err;
      if (Date.now() > deadline) {
        throw new NatsPlatformError(
          'NOT_PERMITTED',
          `${options.what} does not exist and this NATS user may not create it: start the ` +
            'service whose user may (README, "NATS permissions and TLS") or create it as admin',
          { cause: err },
        );
      }
      if (!warned) {
        warned = true;
        options.logger.warn(
          { what: options.what },
          'missing, and this NATS user may not create it: waiting for the service that may',
        );
      }
      // Each attempt the server refuses is one "Permissions Violation" in both logs: not too often.
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
