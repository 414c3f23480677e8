import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file under CB_DATA_DIR where `npm start` keeps the root credential it generated. */
export const ADMIN_KEY_FILE = 'admin-key';
/** The gateway refuses a shorter CB_ADMIN_KEY (see authEnvFields). */
const MIN_LENGTH = 32;

/** Where the root credential came from, and what to tell the user about it. */
export type AdminKey =
  | { readonly key: string; readonly source: 'environment' }
  | { readonly key: string; readonly source: 'generated' | 'kept'; readonly file: string };

/**
 * The root credential (`CB_ADMIN_KEY`) the launcher gives the gateway: the environment's when set
 * (the gateway validates it); else the one kept in `<dataDir>/admin-key`; else a new one (256
 * random bits, base64url) written there with mode 0600 on first start. A kept file readable by
 * others is narrowed to 0600. A kept file that is empty or too short is an error, not replaced:
 * clients may hold it.
 */
export function resolveAdminKey(env: NodeJS.ProcessEnv, dataDir: string): AdminKey {
  const given = env['CB_ADMIN_KEY']?.trim();
  if (given) return { key: given, source: 'environment' };
  const file = join(dataDir, ADMIN_KEY_FILE);
  let kept: string | undefined;
  try {
    kept = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (kept !== undefined) {
    if (kept.length < MIN_LENGTH) {
      throw new Error(
        `${file} holds no valid root credential (at least ${MIN_LENGTH} characters): delete it to generate a new one, or set CB_ADMIN_KEY`,
      );
    }
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    return { key: kept, source: 'kept', file };
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  // 'wx': never overwrite a file another launcher wrote in the meantime.
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', file };
}

/** The launcher's lines about the root credential (the key itself only when just generated). */
export function adminKeyBanner(admin: AdminKey): string[] {
  switch (admin.source) {
    case 'environment':
      return ['  root key  CB_ADMIN_KEY from the environment'];
    case 'kept':
      return [`  root key  in ${admin.file} (send: Authorization: Bearer $(cat ${admin.file}))`];
    case 'generated':
      return [
        `  root key  ${admin.key}`,
        `            generated on this first start and kept in ${admin.file} (mode 0600);`,
        '            send it as `Authorization: Bearer <key>`, create API keys with POST /v1/admin/keys',
      ];
  }
}
