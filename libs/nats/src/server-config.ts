import { JS_API, kvStreamName, kvSubject, type Naming } from '@cb/subjects';

/**
 * NATS least privilege: one user per service (and `admin` for operator tools), each allowed only
 * the subjects it needs. Everything is derived from `Naming`, so a deployment with another prefix
 * or stream gets its own file from `natsServerConfig(naming)`; docker/nats-server.conf is this
 * generator's output for the default naming (a unit test keeps them equal).
 *
 * Wildcards match whole subject tokens only, so the generational read-model buckets
 * (`<prefix>_tokens_<n>`) cannot be named by a pattern: the projection user writes `$KV.>` minus
 * the buckets that belong to others, and may create the buckets of generation 1 only; later
 * generations are created by the rebuild, which runs as `admin`.
 */

export const NATS_USERS = ['command', 'projection', 'gateway', 'automation', 'admin'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The environment variable nats-server reads a user's password from (`$CB_NATS_<USER>_PASSWORD`). */
export function natsPasswordVariable(user: NatsUser): string {
  return `CB_NATS_${user.toUpperCase()}_PASSWORD`;
}

/** Each user's private inbox prefix; its replies and consumer deliveries arrive below it. */
export function inboxPrefixOf(user: string): string {
  return `_INBOX_${user}`;
}

export interface SubjectPermissions {
  allow: string[];
  deny?: string[];
}

export interface UserPermissions {
  publish: SubjectPermissions;
  subscribe: SubjectPermissions;
  /** NATS-native: may publish once to the reply subject of each request it received. */
  allowResponses?: boolean;
}

const API = JS_API;

/** Reads every service needs: JetStream info, stream info, direct and message gets, consumer info. */
function jetStreamReads(): string[] {
  return [
    `${API}.INFO`,
    `${API}.STREAM.INFO.*`,
    `${API}.STREAM.NAMES`,
    `${API}.STREAM.LIST`,
    `${API}.STREAM.MSG.GET.*`,
    `${API}.DIRECT.GET.>`,
    `${API}.CONSUMER.INFO.*.*`,
    `${API}.CONSUMER.NAMES.*`,
    `${API}.CONSUMER.LIST.*`,
  ];
}

/**
 * Ephemeral and ordered consumers (scans, live events, KV watchers, leases) on any stream, with
 * their flow control; deliveries go to the user's own inbox, which is all it may subscribe to.
 * Deleting a consumer is allowed (clean-up); deleting or purging a stream is not.
 */
function ephemeralConsumers(): string[] {
  return [
    `${API}.CONSUMER.CREATE.*`,
    `${API}.CONSUMER.CREATE.*.>`,
    `${API}.CONSUMER.DELETE.*.*`,
    '$JS.FC.>',
  ];
}

/** Creating (or re-checking) streams and buckets by name: `KV_<bucket>` for a bucket. */
function createStreams(streams: string[], update: string[] = []): string[] {
  return [
    ...streams.map((s) => `${API}.STREAM.CREATE.${s}`),
    ...update.map((s) => `${API}.STREAM.UPDATE.${s}`),
  ];
}

const kv = (bucket: string): string => kvSubject(bucket, '>');
const kvStream = kvStreamName;

/** What each user may do, for one deployment's naming. */
export function natsPermissions(naming: Naming): Record<NatsUser, UserPermissions | 'all'> {
  const p = naming.prefix;
  const events = [`${p}.wf.>`, `${p}.tok.>`, `${p}.key.>`, `${p}.hook.>`];
  const deliveries = naming.webhookDeliveriesSubjects;
  const commands = `${p}.cmd.>`;
  const ping = naming.commandPingSubject;
  const inbox = (user: NatsUser): string => `${inboxPrefixOf(user)}.>`;
  const firstReadModels = (['tokens', 'places', 'stats', 'workflows'] as const).map((kind) =>
    kvStream(naming.readModelBucket(kind, 1)),
  );
  return {
    command: {
      publish: {
        allow: [
          ...events,
          kv(naming.metaBucket),
          kv(naming.idempotencyBucket),
          ...jetStreamReads(),
          ...ephemeralConsumers(),
          // The event stream is updated only to add a later version's subjects (ensureStream).
          ...createStreams(
            [
              naming.stream,
              kvStream(naming.metaBucket),
              kvStream(naming.idempotencyBucket),
              naming.webhookDeliveriesStream,
              kvStream(naming.webhooksBucket),
              kvStream(naming.webhookStatusBucket),
            ],
            [naming.stream],
          ),
        ],
      },
      subscribe: { allow: [commands, ping, inbox('command')] },
      allowResponses: true,
    },
    projection: {
      publish: {
        allow: [
          '$KV.>',
          `${p}.dlq.>`,
          ...jetStreamReads(),
          ...ephemeralConsumers(),
          `${API}.CONSUMER.DURABLE.CREATE.${naming.stream}.*`,
          `${API}.CONSUMER.MSG.NEXT.${naming.stream}.*`,
          `$JS.ACK.${naming.stream}.>`,
          ...createStreams([
            naming.deadLetterStream,
            kvStream(naming.metaBucket),
            kvStream(naming.projectorBucket),
            kvStream(naming.keysBucket),
            kvStream(naming.webhooksBucket),
            ...firstReadModels,
          ]),
        ],
        // The buckets of the command service (idempotency), of the gateways (auth state) and of
        // the automation (timers, its leases, webhook status).
        deny: [
          kv(naming.webhookStatusBucket),
          kv(naming.idempotencyBucket),
          kv(naming.sessionsBucket),
          kv(naming.rateLimitBucket),
          kv(naming.timersBucket),
          kv(naming.automationBucket),
        ],
      },
      subscribe: { allow: [inbox('projection')] },
    },
    gateway: {
      publish: {
        allow: [
          commands,
          ping,
          kv(naming.sessionsBucket),
          kv(naming.rateLimitBucket),
          ...jetStreamReads(),
          ...ephemeralConsumers(),
          // The sessions bucket's age limit is raised to SESSION_TTL_S when shorter.
          ...createStreams(
            [kvStream(naming.sessionsBucket), kvStream(naming.rateLimitBucket)],
            [kvStream(naming.sessionsBucket)],
          ),
        ],
      },
      subscribe: { allow: [inbox('gateway')] },
    },
    // Reads the token events through its own durable consumers (per partition for timers,
    // `<prefix>_hook_<tenant>_<id>` per webhook: consumer names are one subject token, so no
    // pattern narrows them to that prefix), keeps timers, leases and webhook status in its
    // buckets, logs delivery attempts, reads the webhooks bucket (direct gets and watchers, as
    // every user may), and fires through the command service (token fire commands only).
    automation: {
      publish: {
        allow: [
          `${p}.cmd.*.token.fire`,
          ...deliveries,
          naming.allWebhookDeadLettersSubject,
          kv(naming.timersBucket),
          kv(naming.automationBucket),
          kv(naming.webhookStatusBucket),
          ...jetStreamReads(),
          ...ephemeralConsumers(),
          `${API}.CONSUMER.DURABLE.CREATE.${naming.stream}.*`,
          `${API}.CONSUMER.MSG.NEXT.${naming.stream}.*`,
          `$JS.ACK.${naming.stream}.>`,
          ...createStreams([
            kvStream(naming.timersBucket),
            kvStream(naming.automationBucket),
            kvStream(naming.webhookStatusBucket),
            naming.webhookDeliveriesStream,
          ]),
        ],
      },
      subscribe: { allow: [inbox('automation')] },
    },
    admin: 'all',
  };
}

export interface NatsServerConfigOptions {
  /** `listen` (host:port); omitted when undefined (then the command line or 4222 decides). */
  listen?: string;
  /** Monitoring port (`http_port`); omitted when undefined. */
  httpPort?: number;
  /** JetStream block: on with `{}`; `encryptionKeyVariable` turns on encryption at rest. */
  jetstream?: { storeDir?: string; encryptionKeyVariable?: string };
  /** TLS for client connections; `verify` also requires client certificates. */
  tls?: { certFile: string; keyFile: string; caFile?: string; verify?: boolean };
}

/** The options of docker/nats-server.conf (compose: JetStream encrypted at rest). */
export const DOCKER_NATS_CONFIG: NatsServerConfigOptions = {
  listen: '0.0.0.0:4222',
  httpPort: 8222,
  jetstream: { storeDir: '/data', encryptionKeyVariable: 'CB_JS_ENCRYPTION_KEY' },
};

const q = (s: string): string => JSON.stringify(s);
/** An array, one item a line, indented below a key at `indent` spaces. */
const list = (items: string[], indent: number): string => {
  const pad = ' '.repeat(indent + 2);
  return `[\n${items.map((i) => `${pad}${q(i)}`).join('\n')}\n${' '.repeat(indent)}]`;
};

/**
 * A nats-server configuration granting each user of `natsPermissions(naming)`, its password read
 * from the environment (`$CB_NATS_<USER>_PASSWORD`: nats-server refuses to start when one is unset).
 */
export function natsServerConfig(naming: Naming, options: NatsServerConfigOptions = {}): string {
  const lines: string[] = [
    '# Circuit Breaker: NATS users with least privilege (README, "NATS permissions and TLS").',
    `# Generated by natsServerConfig() in libs/nats/src/server-config.ts for prefix ${q(naming.prefix)}`,
    `# and stream ${q(naming.stream)}; do not edit by hand. Passwords come from the environment.`,
    '',
  ];
  if (options.listen !== undefined) lines.push(`listen: ${q(options.listen)}`);
  if (options.httpPort !== undefined) lines.push(`http_port: ${options.httpPort}`);
  if (options.jetstream) {
    const js = options.jetstream;
    lines.push('jetstream {');
    if (js.storeDir !== undefined) lines.push(`  store_dir: ${q(js.storeDir)}`);
    if (js.encryptionKeyVariable !== undefined) {
      lines.push('  cipher: chachapoly', `  key: $${js.encryptionKeyVariable}`);
    }
    lines.push('}');
  }
  if (options.tls) {
    const t = options.tls;
    lines.push('tls {', `  cert_file: ${q(t.certFile)}`, `  key_file: ${q(t.keyFile)}`);
    if (t.caFile !== undefined) lines.push(`  ca_file: ${q(t.caFile)}`);
    if (t.verify === true) lines.push('  verify: true');
    lines.push('}');
  }
  lines.push('', 'authorization {', '  users: [');
  const permissions = natsPermissions(naming);
  for (const user of NATS_USERS) {
    const perms = permissions[user];
    lines.push('    {', `      user: ${user}`, `      password: $${natsPasswordVariable(user)}`);
    if (perms !== 'all') {
      lines.push('      permissions: {');
      lines.push('        publish: {', `          allow: ${list(perms.publish.allow, 10)}`);
      if (perms.publish.deny) lines.push(`          deny: ${list(perms.publish.deny, 10)}`);
      lines.push('        }');
      lines.push('        subscribe: {', `          allow: ${list(perms.subscribe.allow, 10)}`);
      if (perms.subscribe.deny) lines.push(`          deny: ${list(perms.subscribe.deny, 10)}`);
      lines.push('        }');
      if (perms.allowResponses === true) lines.push('        allow_responses: true');
      lines.push('      }');
    }
    lines.push('    }');
  }
  lines.push('  ]', '}', '');
  return lines.join('\n');
}
