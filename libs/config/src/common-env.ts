import { Type, type Static } from '@sinclair/typebox';

const NATS_URL_LIST = '^(nats|tls|ws|wss)://[^\\s,]+(,\\s*(nats|tls|ws|wss)://[^\\s,]+)*$';

/** Variables every service reads: NATS connection, naming and logging. */
export const commonEnvFields = {
  NATS_URL: Type.String({
    default: 'nats://127.0.0.1:4222',
    pattern: NATS_URL_LIST,
    description: 'comma-separated NATS URLs such as nats://host:4222,nats://host2:4222',
  }),
  NATS_USER: Type.Optional(
    Type.String({ minLength: 1, description: 'a user name (with NATS_PASSWORD)' }),
  ),
  NATS_PASSWORD: Type.Optional(
    Type.String({ minLength: 1, description: 'a password (with NATS_USER)' }),
  ),
  NATS_TOKEN: Type.Optional(Type.String({ minLength: 1, description: 'an auth token' })),
  NATS_CREDS: Type.Optional(Type.String({ minLength: 1, description: 'path to a .creds file' })),
  NATS_INBOX_PREFIX: Type.Optional(
    Type.String({
      pattern: '^[A-Za-z0-9_-]{1,64}$',
      description: 'the inbox prefix (default _INBOX_<NATS_USER>, or _INBOX without a user)',
    }),
  ),
  NATS_TLS_CA: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'path to the CA certificate (PEM) NATS is signed by',
    }),
  ),
  NATS_TLS_CERT: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'path to a client certificate (PEM, with NATS_TLS_KEY)',
    }),
  ),
  NATS_TLS_KEY: Type.Optional(
    Type.String({ minLength: 1, description: 'path to the client key (PEM, with NATS_TLS_CERT)' }),
  ),
  CB_PREFIX: Type.String({
    default: 'cb',
    pattern: '^[A-Za-z0-9_-]{1,32}$',
    description: '1-32 characters of A-Z, a-z, 0-9, _ or - (root subject token)',
  }),
  CB_STREAM: Type.String({
    default: 'CB_EVENTS',
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description: '1-64 characters of A-Z, a-z, 0-9, _ or - (event stream name)',
  }),
  CB_PARTITIONS: Type.Integer({
    default: 8,
    minimum: 1,
    maximum: 1024,
    description: 'an integer from 1 to 1024 (fixed when the stream is created)',
  }),
  CB_STREAM_REPLICAS: Type.Integer({
    default: 1,
    minimum: 1,
    maximum: 5,
    description: 'an integer from 1 to 5 (3 in a cluster)',
  }),
  CB_DUPLICATE_WINDOW_MS: Type.Integer({
    default: 600_000,
    minimum: 1000,
    maximum: 7 * 24 * 3600 * 1000,
    description: 'the idempotency window in milliseconds (1000 to 604800000)',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'one of fatal, error, warn, info, debug, trace, silent' },
  ),
};

export const CommonEnv = Type.Object(commonEnvFields);
export type CommonEnv = Static<typeof CommonEnv>;

/** Cross-field checks TypeBox cannot express; returns the problems found. */
export function checkCredentials(env: CommonEnv): string[] {
  const issues: string[] = [];
  if ((env.NATS_USER === undefined) !== (env.NATS_PASSWORD === undefined)) {
    issues.push('NATS_USER and NATS_PASSWORD must be set together');
  }
  const kinds = [env.NATS_USER, env.NATS_TOKEN, env.NATS_CREDS].filter((v) => v !== undefined);
  if (kinds.length > 1) {
    issues.push('set only one of NATS_USER/NATS_PASSWORD, NATS_TOKEN or NATS_CREDS');
  }
  if ((env.NATS_TLS_CERT === undefined) !== (env.NATS_TLS_KEY === undefined)) {
    issues.push('NATS_TLS_CERT and NATS_TLS_KEY must be set together');
  }
  return issues;
}
