import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NATS_USERS, natsPasswordVariable, natsServerConfig, type NatsUser } from '@cb/nats';
import { DEFAULT_NAMING, Naming } from '@cb/subjects';

/** `<CB_DATA_DIR>/nats-credentials.json`: the password of each NATS user of `npm start`. */
export const CREDENTIALS_FILE = 'nats-credentials.json';
/** `<CB_DATA_DIR>/nats-server.conf`: written at every start from `natsServerConfig`. */
export const CONFIG_FILE = 'nats-server.conf';

export type NatsCredentials = Record<NatsUser, string>;

/**
 * 192 random bits as 48 hex digits after a letter: nats-server parses a `$VAR` value as a
 * configuration value, so it must not look like a number or a boolean.
 */
function newPassword(): string {
  return `p${randomBytes(24).toString('hex')}`;
}

const PASSWORD = /^[A-Za-z][A-Za-z0-9]{19,}$/;

/**
 * The passwords of `<dataRoot>/nats-credentials.json`, created (mode 0600) with fresh random ones
 * on first start and reused after, so the store's users stay the same. A file that is not what
 * we wrote is refused rather than replaced.
 */
export function loadOrCreateNatsCredentials(dataRoot: string): {
  credentials: NatsCredentials;
  file: string;
  created: boolean;
} {
  const file = resolve(dataRoot, CREDENTIALS_FILE);
  if (!existsSync(file)) {
    const credentials = Object.fromEntries(
      NATS_USERS.map((u) => [u, newPassword()]),
    ) as NatsCredentials;
    writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return { credentials, file, created: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    parsed = undefined;
  }
  const record = parsed as Record<string, unknown>;
  // A user added since the file was written (e.g. `automation`) gets a password of its own.
  const missing = NATS_USERS.filter((u) => record?.[u] === undefined);
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    missing.length < NATS_USERS.length &&
    NATS_USERS.every((u) => missing.includes(u) || PASSWORD.test(String(record[u])));
  if (!valid) {
    throw new Error(
      `${file} is not a NATS credentials file of npm start (a JSON object with a password of ` +
        `20+ letters and digits, starting with a letter, for each of ${NATS_USERS.join(', ')}): ` +
        'fix it, or delete it to have new passwords generated',
    );
  }
  // Secrets: only the owner reads them, even if someone loosened the mode.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  if (missing.length > 0) {
    for (const u of missing) record[u] = newPassword();
    writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  }
  return { credentials: record as NatsCredentials, file, created: false };
}

/** The variables nats-server's configuration reads the passwords from. */
export function natsPasswordEnv(credentials: NatsCredentials): Record<string, string> {
  return Object.fromEntries(NATS_USERS.map((u) => [natsPasswordVariable(u), credentials[u]]));
}

/** The services' naming from their variables (the default when invalid: the services say why). */
export function namingFromEnv(env: NodeJS.ProcessEnv): Naming {
  try {
    return new Naming({
      prefix: env.CB_PREFIX?.trim() || DEFAULT_NAMING.prefix,
      stream: env.CB_STREAM?.trim() || DEFAULT_NAMING.stream,
      partitions: DEFAULT_NAMING.partitions,
    });
  } catch {
    return new Naming(DEFAULT_NAMING);
  }
}

/** Write `<dataRoot>/nats-server.conf` for the naming; returns its path. */
export function writeNatsConfig(dataRoot: string, naming: Naming): string {
  const file = resolve(dataRoot, CONFIG_FILE);
  writeFileSync(file, natsServerConfig(naming));
  return file;
}
